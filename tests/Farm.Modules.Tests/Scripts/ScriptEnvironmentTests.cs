namespace Farm.Modules.Tests.Scripts;

[TestClass]
public sealed class ScriptEnvironmentTests
{
    [TestMethod]
    public void Base_DaemonWithNotifySocketAndDotnetSettings_KeepsOnlyTheDocumentedVariables()
    {
        var daemon = new Dictionary<string, string> { ["HOME"] = "/root", ["NOTIFY_SOCKET"] = "/run/systemd/notify", ["DOTNET_gcServer"] = "1", ["PATH"] = "/tmp/evil:/usr/bin", ["TZ"] = "Europe/Paris" };

        var variables = ScriptEnvironment.Base(name => daemon.GetValueOrDefault(name));

        CollectionAssert.AreEquivalent(
            new Dictionary<string, string> { ["PATH"] = ScriptEnvironment.Path, ["LANG"] = "C.UTF-8", ["HOME"] = "/root", ["TZ"] = "Europe/Paris" },
            variables.ToDictionary());
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("")]
    [DataRow("relative/home")]
    public void Base_NoUsableHome_UsesTheRootFolder(string? home)
    {
        Assert.AreEqual("/", ScriptEnvironment.Base(name => name == "HOME" ? home : null)["HOME"]);
    }
}
