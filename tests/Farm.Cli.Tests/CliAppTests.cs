namespace Farm.Cli.Tests;

[TestClass]
public sealed class CliAppTests
{
    [TestMethod]
    [DataRow(new string[] { "--help" }, "config")]
    [DataRow(new string[] { "config", "--help" }, "check")]
    [DataRow(new string[] { "config", "--help" }, "apply")]
    [DataRow(new string[] { "--help" }, "drain")]
    [DataRow(new string[] { "--help" }, "resume")]
    [DataRow(new string[] { "config", "check", "--help" }, "FILE")]
    [DataRow(new string[] { "config", "hash", "-h" }, "FILE")]
    [DataRow(new string[] { "--help" }, "status")]
    [DataRow(new string[] { "--help" }, "who-owns")]
    [DataRow(new string[] { "--help" }, "import")]
    [DataRow(new string[] { "import", "--help" }, "safekit")]
    [DataRow(new string[] { "status", "--help" }, "--watch")]
    [DataRow(new string[] { "status", "-h" }, "--key-file")]
    [DataRow(new string[] { "who-owns", "--help" }, "CLIENT")]
    [DataRow(new string[] { "who-owns", "--help" }, "--protocol")]
    public void Run_Help_PrintsUsageAndExitsZero(string[] args, string expected)
    {
        var run = CliRun.Of(args);
        Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Error);
        StringAssert.Contains(run.Output, "Usage:");
        StringAssert.Contains(run.Output, expected);
    }

    [TestMethod]
    public void Run_CheckWithoutFiles_IsUsageErrorExitTwo()
    {
        var run = CliRun.Of("config", "check");
        Assert.AreEqual(CliApp.ExitUsage, run.ExitCode);
        StringAssert.Contains(run.Error, "farmctl: ");
        StringAssert.Contains(run.Error, "Run 'farmctl config check --help' for usage.");
        Assert.AreEqual("", run.Output);
    }

    [TestMethod]
    [DataRow(new string[0])]
    [DataRow(new string[] { "conifg", "check", "x.yaml" })]
    [DataRow(new string[] { "config" })]
    [DataRow(new string[] { "config", "check", "--strict", "x.yaml" })]
    [DataRow(new string[] { "status", "extra" })]
    [DataRow(new string[] { "status", "--wacth" })]
    [DataRow(new string[] { "who-owns" })]
    [DataRow(new string[] { "who-owns", "10.0.0.1", "10.0.0.2" })]
    public void Run_BadCommandLine_IsUsageErrorExitTwo(string[] args)
    {
        var run = CliRun.Of(args);
        Assert.AreEqual(CliApp.ExitUsage, run.ExitCode, run.Output + run.Error);
        StringAssert.Contains(run.Error, "--help' for usage.");
    }

    [TestMethod]
    [DataRow(new string[] { "who-owns", "10" }, "'10' is not a client address")]
    [DataRow(new string[] { "who-owns", "10.0.0.1:99999" }, "'10.0.0.1:99999' is not a client address")]
    [DataRow(new string[] { "who-owns", "fe80::1%eth0" }, "is not a client address")]
    [DataRow(new string[] { "who-owns", "--json" }, "Required argument 'CLIENT' missing")]
    [DataRow(new string[] { "who-owns", "10.0.0.1", "--port", "0" }, "--port 0 is not a port (1 to 65535)")]
    [DataRow(new string[] { "who-owns", "10.0.0.1", "--port", "http" }, "http")]
    [DataRow(new string[] { "who-owns", "10.0.0.1", "--protocol", "sctp" }, "sctp")]
    [DataRow(new string[] { "status", "--host", "n1" }, "--host needs the cluster key to seal the call: add --cluster FILE or --key-file FILE.")]
    [DataRow(new string[] { "status", "--host", "n1", "--socket", "/s", "--key-file", "k" }, "--socket and --host exclude each other")]
    [DataRow(new string[] { "status", "--host", "n1", "--cluster", "c", "--key-file", "k" }, "--cluster and --key-file exclude each other")]
    [DataRow(new string[] { "status", "--cluster", "c" }, "--cluster and --key-file go with --host; the local socket needs no key.")]
    [DataRow(new string[] { "status", "--host", "n1:99999", "--key-file", "k" }, "--host 'n1:99999' is not HOST, HOST:PORT or [IPv6]:PORT.")]
    [DataRow(new string[] { "status", "--timeout", "5sec" }, "--timeout '5sec' is not a positive duration")]
    [DataRow(new string[] { "status", "--timeout", "0s" }, "--timeout '0s' is not a positive duration")]
    public void Run_BadAdminCommandLine_SaysWhyExitTwo(string[] args, string expected)
    {
        var run = CliRun.Of(args);
        Assert.AreEqual(CliApp.ExitUsage, run.ExitCode, run.Output + run.Error);
        StringAssert.Contains(run.Error, expected);
        StringAssert.Contains(run.Error, $"Run 'farmctl {args[0]} --help' for usage.");
        Assert.AreEqual("", run.Output);
    }
}
