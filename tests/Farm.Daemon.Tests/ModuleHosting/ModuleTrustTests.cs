namespace Farm.Daemon.Tests.ModuleHosting;

[TestClass]
public sealed class ModuleTrustTests
{
    private const UnixFileMode Script = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private string modules = null!;
    private string module = null!;

    [TestInitialize]
    public void Setup()
    {
        modules = Directory.CreateTempSubdirectory("farmd-trust-").FullName;
        File.SetUnixFileMode(modules, Script);
        module = Path.Combine(modules, "web");
        Directory.CreateDirectory(Path.Combine(module, "bin", "lib"));
        Directory.CreateDirectory(Path.Combine(module, "checkers"));
        File.WriteAllText(Path.Combine(module, "farm.yaml"), "module: {}\n");
        foreach (string file in new[] { "bin/start_both", "bin/lib/common.sh", "checkers/db" })
        {
            File.WriteAllText(Path.Combine(module, file), "#!/bin/sh\n");
            File.SetUnixFileMode(Path.Combine(module, file), Script);
        }
    }

    [TestCleanup]
    public void Cleanup() => Directory.Delete(modules, recursive: true);

    [TestMethod]
    public void Check_RootOwnedNotWritableByOthers_HasNoProblem() =>
        Assert.IsEmpty(ModuleTrust.Check(modules, module, Config(), StatxFileInspector.Instance));

    [TestMethod]
    [DataRow("bin/lib/common.sh")]
    [DataRow("bin/lib")]
    [DataRow("checkers/db")]
    [DataRow("checkers")]
    [DataRow("farm.yaml")]
    [DataRow("")]
    public void Check_OnePathWritableByItsGroup_NamesThatPath(string relative)
    {
        string path = relative.Length == 0 ? module : Path.Combine(module, relative);
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.GroupWrite);

        var problems = ModuleTrust.Check(modules, module, Config(), StatxFileInspector.Instance);

        Assert.AreEqual(1, problems.Count, string.Join("\n", problems));
        StringAssert.StartsWith(problems[0], $"{path} is writable by its group (mode 0");
    }

    [TestMethod]
    public void Check_ScriptOwnedBySomeoneElse_NamesItsOwner()
    {
        string script = Path.Combine(module, "bin", "start_both");
        var files = new FakeFileInspector { Fallback = StatxFileInspector.Instance }.Add(script, Script, uid: 1000);

        var problems = ModuleTrust.Check(modules, module, Config(), files);

        CollectionAssert.AreEqual(new[] { $"{script} is owned by uid 1000, not by root: run 'chown root: {script}'" }, problems.ToArray());
    }

    [TestMethod]
    public void Check_ModulesFolderWritableByOthers_IsAProblemToo()
    {
        File.SetUnixFileMode(modules, Script | UnixFileMode.OtherWrite);

        var problems = ModuleTrust.Check(modules, module, Config(), StatxFileInspector.Instance);

        StringAssert.StartsWith(problems.Single(), $"{modules} is writable by others");
    }

    private static ModuleConfig Config() => new()
    {
        Name = "web",
        Vips = [System.Net.IPAddress.Parse("198.18.100.1")],
        Interface = "eth0",
        Rules = [new PortRuleConfig { FirstPort = 80, LastPort = 80 }],
        Checkers = [new CustomCheckerConfig { Name = "db", Script = "checkers/db" }],
    };
}
