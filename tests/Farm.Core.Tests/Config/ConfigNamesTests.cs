namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class ConfigNamesTests
{
    [TestMethod]
    [DataRow("web", true)]
    [DataRow("node-1", true)]
    [DataRow("Web", false)]
    [DataRow("web_1", false)]
    [DataRow("-web", false)]
    [DataRow("", false)]
    public void IsValid_Name_AnswersAsTheParserDoes(string name, bool valid)
    {
        Assert.AreEqual(valid, ConfigNames.IsValid(name));
        var parsed = ConfigParser.ParseModule($"module:\n  name: '{name}'\n  vips: [198.18.100.1]\n  interface: eth0\n  rules: [{{ ports: 80 }}]\n", "farm.yaml");
        Assert.AreEqual(valid, parsed.Succeeded, string.Join('\n', parsed.Errors));
    }

    [TestMethod]
    [DataRow("HTTP_APACHE", "http-apache")]
    [DataRow("intf-eth0.100", "intf-eth0-100")]
    [DataRow("__", "demo")]
    [DataRow("a--b", "a-b")]
    public void Suggest_InvalidName_GivesTheNearestValidOne(string name, string expected)
    {
        string suggested = ConfigNames.Suggest(name);

        Assert.AreEqual(expected, suggested);
        Assert.IsTrue(ConfigNames.IsValid(suggested));
    }

    [TestMethod]
    public void Suggest_LongName_IsCutTo63WithoutATrailingHyphen()
    {
        string suggested = ConfigNames.Suggest(new string('a', 62) + "_b");

        Assert.AreEqual(new string('a', 62), suggested);
    }
}
