namespace Farm.Cli.Tests;

[TestClass]
public sealed class CliAppTests
{
    [TestMethod]
    [DataRow(new string[] { "--help" }, "config")]
    [DataRow(new string[] { "config", "--help" }, "check")]
    [DataRow(new string[] { "config", "check", "--help" }, "FILE")]
    [DataRow(new string[] { "config", "hash", "-h" }, "FILE")]
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
    public void Run_BadCommandLine_IsUsageErrorExitTwo(string[] args)
    {
        var run = CliRun.Of(args);
        Assert.AreEqual(CliApp.ExitUsage, run.ExitCode, run.Output + run.Error);
        StringAssert.Contains(run.Error, "--help' for usage.");
    }
}
