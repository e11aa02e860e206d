namespace Farm.Cli.Tests.Admin;

[TestClass]
public sealed class AdminConnectionOptionsTests
{
    [TestMethod]
    [DataRow("node1", "node1", null)]
    [DataRow("node1:9500", "node1", 9500)]
    [DataRow("10.0.0.2:7400", "10.0.0.2", 7400)]
    [DataRow("fd00::2", "fd00::2", null)]
    [DataRow("[fd00::2]", "fd00::2", null)]
    [DataRow("[fd00::2]:7400", "fd00::2", 7400)]
    public void TryParseHost_ValidForms_NameAndPort(string text, string name, int? port)
    {
        Assert.IsTrue(AdminConnectionOptions.TryParseHost(text, out string parsedName, out int? parsedPort));
        Assert.AreEqual((name, port), (parsedName, parsedPort));
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("node1:")]
    [DataRow("node1:0")]
    [DataRow("node1:65536")]
    [DataRow("node1:http")]
    [DataRow("[fd00::2")]
    [DataRow("[10.0.0.1]:80")]
    [DataRow("fd00::zz")]
    [DataRow("bad host")]
    public void TryParseHost_InvalidForms_False(string text) =>
        Assert.IsFalse(AdminConnectionOptions.TryParseHost(text, out _, out _));

    [TestMethod]
    public async Task Status_EmptyKeyFile_FailureExitOne()
    {
        var (run, keyFile) = await TestCli.RunWithKeyFileAsync("", file => ["status", "--host", "127.0.0.1", "--key-file", file]);

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        Assert.AreEqual($"farmctl: {keyFile}: the key file is empty (it must hold the cluster's 'key' value)\n", run.Error);
    }

    [TestMethod]
    public async Task Status_MissingClusterFile_FailureExitOne()
    {
        var run = await TestCli.RunAsync(["status", "--host", "127.0.0.1", "--cluster", "/nonexistent/cluster.yaml"]).WithTimeout();
        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        Assert.AreEqual("farmctl: cannot read the cluster file /nonexistent/cluster.yaml: no such file\n", run.Error);
    }

    [TestMethod]
    public async Task Status_InvalidClusterFile_PrintsItsErrorsExitOne()
    {
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "cluster:\n  name: x\n");
        try
        {
            var run = await TestCli.RunAsync(["status", "--host", "127.0.0.1", "--cluster", file]).WithTimeout();
            Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
            StringAssert.Contains(run.Error, $"{file} is not a valid cluster file");
            StringAssert.Contains(run.Error, $"{file}:");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
