using static Farm.Cli.Tests.Import.ImportTestData;

namespace Farm.Cli.Tests.Import;

[TestClass]
public sealed class ImportCommandTests
{
    [TestMethod]
    [DataRow("simple-farm.xml")]
    [DataRow("on-port-udp.xml")]
    [DataRow("two-lans.xml")]
    [DataRow("power-hosts.xml")]
    [DataRow("checkers.xml")]
    [DataRow("errd.xml")]
    [DataRow("user-vars.xml")]
    [DataRow("no-equivalent.xml")]
    public void Run_EachSafeKitShape_WritesAModuleThatConfigCheckAccepts(string shape)
    {
        using var temp = new TempFolder();
        string output = temp.Combine("modules", "web");

        var run = CliRun.Of("import", "safekit", PathOf(shape), "-o", output);

        Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Error);
        StringAssert.StartsWith(run.Output, $"Wrote module 'web' to {output}: farm.yaml");
        var check = CliRun.Of("config", "check", Path.Combine(output, "farm.yaml"));
        Assert.AreEqual(CliApp.ExitOk, check.ExitCode, check.Output + File.ReadAllText(Path.Combine(output, "farm.yaml")));
        StringAssert.Contains(check.Output, "OK — module 'web', balance");
    }

    [TestMethod]
    public void Run_Warnings_PrintsEachLocatedOnStandardErrorAndStillWrites()
    {
        using var temp = new TempFolder();

        var run = CliRun.Of("import", "safekit", PathOf("power-hosts.xml"), "-o", temp.Combine("app"));

        Assert.AreEqual(CliApp.ExitOk, run.ExitCode);
        string[] lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(4, lines.Length, run.Error);
        Assert.IsTrue(lines.All(l => l.StartsWith(PathOf("power-hosts.xml") + ":", StringComparison.Ordinal) && l.Contains(": warning: ", StringComparison.Ordinal)), run.Error);
        StringAssert.Contains(run.Output, "4 warnings (above, and at the top of farm.yaml)");
    }

    [TestMethod]
    public void Run_MalformedXml_PrintsTheLineExitsOneAndWritesNothing()
    {
        using var temp = new TempFolder();
        string output = temp.Combine("app");

        var run = CliRun.Of("import", "safekit", PathOf("malformed.xml"), "-o", output);

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        StringAssert.StartsWith(run.Error, PathOf("malformed.xml") + ":12:");
        StringAssert.Contains(run.Error, "1 error: nothing was written");
        Assert.IsFalse(Directory.Exists(output));
        Assert.AreEqual(0, Directory.EnumerateFileSystemEntries(temp.Path).Count(), "no staging folder left behind");
    }

    [TestMethod]
    public void Run_NonEmptyOutputFolder_RefusesWithoutForceAndReplacesWithIt()
    {
        using var temp = new TempFolder();
        string output = temp.Combine("app");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "old.txt"), "keep me");

        var refused = CliRun.Of("import", "safekit", PathOf("simple-farm.xml"), "-o", output);
        var forced = CliRun.Of("import", "safekit", PathOf("simple-farm.xml"), "-o", output, "--force");

        Assert.AreEqual(CliApp.ExitFailed, refused.ExitCode);
        StringAssert.Contains(refused.Error, "is not empty; choose an empty or new folder, or pass --force");
        Assert.AreEqual(CliApp.ExitOk, forced.ExitCode, forced.Error);
        Assert.IsFalse(File.Exists(Path.Combine(output, "old.txt")));
        Assert.IsTrue(File.Exists(Path.Combine(output, "farm.yaml")));
        Assert.AreEqual(1, Directory.EnumerateFileSystemEntries(temp.Path).Count(), "no staging or previous folder left behind");
    }

    [TestMethod]
    public void Run_NameAndInterfaceOptions_SetTheModuleNameAndTheInterface()
    {
        using var temp = new TempFolder();
        string xml = temp.Combine("userconfig.xml");
        File.WriteAllText(xml, Text("simple-farm.xml").Replace(" name=\"eth1\"", "", StringComparison.Ordinal));

        var run = CliRun.Of("import", "safekit", xml, "-o", temp.Combine("out"), "--name", "shop", "--interface", "ens18");

        Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Error);
        string yaml = File.ReadAllText(temp.Combine("out", "farm.yaml"));
        StringAssert.Contains(yaml, "  name: shop\n");
        StringAssert.Contains(yaml, "  interface: 'ens18'\n");
        Assert.AreEqual("", run.Error, "--interface answers what the file leaves open");
    }

    [TestMethod]
    public void Run_InvalidName_IsAUsageError()
    {
        var run = CliRun.Of("import", "safekit", PathOf("simple-farm.xml"), "-o", "/nonexistent/x", "--name", "Web_1");

        Assert.AreEqual(CliApp.ExitUsage, run.ExitCode);
        StringAssert.Contains(run.Error, "--name 'Web_1' is not a valid module name");
    }

    [TestMethod]
    public void Run_MissingFile_NamesItAndExitsOne()
    {
        using var temp = new TempFolder();

        var run = CliRun.Of("import", "safekit", temp.Combine("nope.xml"), "-o", temp.Combine("out"));

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        StringAssert.StartsWith(run.Error, temp.Combine("nope.xml") + ":1:1: error: file not found");
    }

    [TestMethod]
    public void Help_ImportSafeKit_ListsTheArgumentAndEveryOption()
    {
        var run = CliRun.Of("import", "safekit", "--help");

        Assert.AreEqual(CliApp.ExitOk, run.ExitCode);
        foreach (string option in new[] { "FILE", "--scripts", "-o, --output", "--name", "--interface", "--force" })
        {
            StringAssert.Contains(run.Output, option);
        }
    }
}
