using Farm.Daemon.Hosting;

namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class DaemonCommandLineTests
{
    [TestMethod]
    public void Parse_AllOptionsInBothForms_Parsed()
    {
        var args = DaemonCommandLine.Parse(
            ["--cluster", "c.yaml", "--node=n1", "--modules", "mods", "--admin-socket=/tmp/x.sock", "--log-dir", "logs",
             "--address-map", "198.18.0.1=127.0.0.1", "--address-map=198.18.0.2=127.0.0.2"],
            out bool help, out var errors);

        Assert.IsFalse(help);
        Assert.AreEqual(0, errors.Count);
        Assert.IsNotNull(args);
        Assert.AreEqual("c.yaml", args.ClusterFile);
        Assert.AreEqual("n1", args.NodeName);
        Assert.AreEqual("mods", args.ModulesDirectory);
        Assert.AreEqual("/tmp/x.sock", args.AdminSocket);
        Assert.AreEqual("logs", args.LogDirectory);
        CollectionAssert.AreEqual(new[] { "198.18.0.1=127.0.0.1", "198.18.0.2=127.0.0.2" }, args.AddressMap.ToArray());
    }

    [TestMethod]
    public void Parse_NothingGiven_ReportsBothRequiredOptions()
    {
        var args = DaemonCommandLine.Parse([], out _, out var errors);

        Assert.IsNull(args);
        CollectionAssert.AreEqual(new[] { "option '--cluster FILE' is required", "option '--node NAME' is required" }, errors.ToArray());
    }

    [TestMethod]
    public void Parse_UnknownOptionMissingValueAndDuplicate_AllReported()
    {
        var args = DaemonCommandLine.Parse(["--cluster", "a", "--cluster", "b", "--verbose", "--node"], out _, out var errors);

        Assert.IsNull(args);
        CollectionAssert.AreEqual(
            new[] { "option '--cluster' is given twice", "unknown option '--verbose'", "option '--node' needs a value", "option '--node NAME' is required" },
            errors.ToArray());
    }

    [TestMethod]
    public async Task RunAsync_Help_PrintsUsageAndExitsZero()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await DaemonApp.RunAsync(["--help"], output, error);

        Assert.AreEqual(0, code);
        StringAssert.StartsWith(output.ToString(), "Usage: farmd --cluster FILE --node NAME");
        Assert.AreEqual("", error.ToString());
    }

    [TestMethod]
    public async Task RunAsync_UsageError_ExitsTwo()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await DaemonApp.RunAsync(["--node", "n1"], output, error);

        Assert.AreEqual(2, code);
        StringAssert.Contains(error.ToString(), "farmd: option '--cluster FILE' is required");
        StringAssert.Contains(error.ToString(), "farmd --help");
    }
}
