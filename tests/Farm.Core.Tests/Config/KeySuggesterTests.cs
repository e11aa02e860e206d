namespace Farm.Core.Tests.Config;

[TestClass]
public sealed class KeySuggesterTests
{
    private static readonly string[] NodeKeys = ["name", "addresses", "weight", "priority"];

    [TestMethod]
    [DataRow("wieght", "weight")]
    [DataRow("adresses", "addresses")]
    [DataRow("Priority", "priority")]
    [DataRow("nme", "name")]
    public void Nearest_Misspelling_SuggestsValidKey(string typo, string expected) =>
        Assert.AreEqual(expected, KeySuggester.Nearest(typo, NodeKeys));

    [TestMethod]
    public void Nearest_UnrelatedWord_ReturnsNull() =>
        Assert.IsNull(KeySuggester.Nearest("colour", NodeKeys));

    [TestMethod]
    [DataRow("weight", "weight", 0)]
    [DataRow("wieght", "weight", 1)]
    [DataRow("wight", "weight", 1)]
    [DataRow("abc", "", 3)]
    public void Distance_Pairs_CountsEditsWithTranspositionAsOne(string a, string b, int expected) =>
        Assert.AreEqual(expected, KeySuggester.Distance(a, b));
}
