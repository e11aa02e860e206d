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
    public void Parse_NothingGiven_InstalledFilesAndNodeFromHostName()
    {
        var args = DaemonCommandLine.Parse([], out _, out var errors);

        Assert.AreEqual(0, errors.Count);
        Assert.IsNotNull(args);
        Assert.AreEqual(DefaultPaths.ClusterFile, args.ClusterFile);
        Assert.AreEqual(DefaultPaths.ModulesDirectory, args.ModulesDirectory);
        Assert.IsTrue(args.ModulesDirectoryOptional, "the installed modules folder may be missing");
        Assert.IsNull(args.NodeName, "null: the node named like the host");
        Assert.IsFalse(args.Cleanup);
        if (!OperatingSystem.IsWindows())
        {
            Assert.AreEqual(("/etc/farm/cluster.yaml", "/etc/farm/modules"), (DefaultPaths.ClusterFile, DefaultPaths.ModulesDirectory));
        }
    }

    [TestMethod]
    public void Parse_ClusterGivenWithoutModules_NoModules()
    {
        var args = DaemonCommandLine.Parse(["--cluster", "c.yaml"], out _, out var errors);

        Assert.AreEqual(0, errors.Count);
        Assert.IsNotNull(args);
        Assert.IsNull(args.ModulesDirectory, "another cluster file never picks up the installed modules");
    }

    [TestMethod]
    public void Parse_Cleanup_FlagWithoutValue()
    {
        var args = DaemonCommandLine.Parse(["--cleanup", "--state-dir", "/tmp/state"], out _, out var errors);

        Assert.AreEqual(0, errors.Count);
        Assert.IsNotNull(args);
        Assert.IsTrue(args.Cleanup);
        Assert.AreEqual("/tmp/state", args.StateDirectory);
    }

    [TestMethod]
    public void Parse_UnknownOptionMissingValueAndDuplicate_AllReported()
    {
        var args = DaemonCommandLine.Parse(["--cluster", "a", "--cluster", "b", "--verbose", "--node"], out _, out var errors);

        Assert.IsNull(args);
        CollectionAssert.AreEqual(
            new[] { "option '--cluster' is given twice", "unknown option '--verbose'", "option '--node' needs a value" },
            errors.ToArray());
    }

    [TestMethod]
    [DataRow("debug", LogLevel.Debug)]
    [DataRow("information", LogLevel.Information)]
    [DataRow("warning", LogLevel.Warning)]
    [DataRow("error", LogLevel.Error)]
    public void Parse_LogLevel_ParsedAndMappedToSerilog(string given, LogLevel expected)
    {
        var args = DaemonCommandLine.Parse(["--log-level", given], out _, out var errors);

        Assert.AreEqual(0, errors.Count);
        Assert.IsNotNull(args);
        Assert.AreEqual(expected, args.LogLevel);
        Assert.AreEqual(expected.ToString(), DaemonApp.SerilogLevel(expected).ToString().Replace("Verbose", "Trace", StringComparison.Ordinal));
    }

    [TestMethod]
    public void Parse_NoLogLevel_Information()
    {
        Assert.AreEqual(LogLevel.Information, DaemonCommandLine.Parse([], out _, out _)!.LogLevel);
    }

    [TestMethod]
    public void Parse_UnknownLogLevel_ReportedWithTheLevelsAccepted()
    {
        var args = DaemonCommandLine.Parse(["--log-level=verbose"], out _, out var errors);

        Assert.IsNull(args);
        CollectionAssert.AreEqual(new[] { "option '--log-level' is 'verbose', which is not one of debug, information, warning, error" }, errors.ToArray());
    }

    [TestMethod]
    public async Task RunAsync_Help_PrintsUsageAndExitsZero()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await DaemonApp.RunAsync(["--help"], output, error);

        Assert.AreEqual(0, code);
        StringAssert.StartsWith(output.ToString(), "Usage: farmd [--cluster FILE] [--node NAME] [options]");
        Assert.AreEqual("", error.ToString());
    }

    [TestMethod]
    public async Task RunAsync_UsageError_ExitsTwo()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await DaemonApp.RunAsync(["--node", "n1", "--verbose"], output, error);

        Assert.AreEqual(2, code);
        StringAssert.Contains(error.ToString(), "farmd: unknown option '--verbose'");
        StringAssert.Contains(error.ToString(), "farmd --help");
    }
}
