using System.Text.RegularExpressions;

namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class DaemonSettingsLoaderTests() : TempDirectoryTest("farmd-settings-")
{
    private string State => Path.Combine(Dir, "state");

    [TestMethod]
    public async Task RunAsync_ConfigErrors_PrintedWithFileLineColumnAndExitOne()
    {
        string file = Path.Combine(Dir, "cluster.yaml");
        await File.WriteAllTextAsync(file, "cluster:\n  name: demo\n  key: short\n  nodes:\n    - name: n1\n      addresses: [198.18.0.1]\n      weight: 5000\n");
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await DaemonApp.RunAsync(["--cluster", file, "--node", "n1"], output, error);

        Assert.AreEqual(1, code);
        string[] lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.IsTrue(lines.Length >= 2, error.ToString());
        Assert.IsTrue(lines.All(l => l.StartsWith(file + ":", StringComparison.Ordinal)), error.ToString());
        StringAssert.Contains(error.ToString(), $"{file}:3:8: error:");
        StringAssert.Contains(error.ToString(), $"{file}:7:15: error:");
    }

    [TestMethod]
    public async Task RunAsync_MissingClusterFile_SaysFileNotFound()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = await DaemonApp.RunAsync(["--cluster", Path.Combine(Dir, "nope.yaml"), "--node", "n1"], output, error);

        Assert.AreEqual(1, code);
        StringAssert.Contains(error.ToString(), "nope.yaml:1:1: error: file not found");
    }

    [TestMethod]
    public void Load_UnknownNode_ListsTheValidNames()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n9", StateDirectory = State }, 1, null, error);

        Assert.IsNull(settings);
        Assert.AreEqual($"farmd: node 'n9' is not in {file}; its nodes are: n1, n2, n3, n4", error.ToString().Trim());
    }

    [TestMethod]
    public void Load_NoNodeGiven_NodeNamedLikeTheHostFullOrShortAnyCase()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var exact = DaemonSettingsLoader.Load(new DaemonArguments { StateDirectory = State, ClusterFile = file, HostName = "n3" }, 1, null, error);
        var fqdn = DaemonSettingsLoader.Load(new DaemonArguments { StateDirectory = State, ClusterFile = file, HostName = "N2.farm.example.org" }, 1, null, error);

        Assert.AreEqual("", error.ToString());
        Assert.AreEqual(("n3", "n2"), (exact?.Self.Name, fqdn?.Self.Name));
    }

    [TestMethod]
    public void Load_NoNodeGivenAndHostNotANode_NamesHostNodesAndOverride()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { StateDirectory = State, ClusterFile = file, HostName = "web7" }, 1, null, error);

        Assert.IsNull(settings);
        StringAssert.Contains(error.ToString(), $"this host's name 'web7' is not a node of {file}; its nodes are: n1, n2, n3, n4");
        StringAssert.Contains(error.ToString(), "FARMD_OPTS=\"--node n1\" in /etc/default/farmd");
    }

    [TestMethod]
    public void Load_DefaultModulesDirectoryMissing_NoModulesButAGivenOneMustExist()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        string missing = Path.Combine(Dir, "no-modules");
        using var error = new StringWriter();

        var defaulted = DaemonSettingsLoader.Load(
            new DaemonArguments { StateDirectory = State, ClusterFile = file, NodeName = "n1", ModulesDirectory = missing, ModulesDirectoryOptional = true }, 1, null, error);
        var given = DaemonSettingsLoader.Load(new DaemonArguments { StateDirectory = State, ClusterFile = file, NodeName = "n1", ModulesDirectory = missing }, 1, null, error);

        Assert.IsNotNull(defaulted);
        Assert.AreEqual(0, defaulted.Modules.Count);
        Assert.IsNull(given);
        StringAssert.Contains(error.ToString(), $"modules directory '{missing}' does not exist");
    }

    [TestMethod]
    public void Load_ModulesDirectory_EveryModuleLoadedAndBadOnesReported()
    {
        var (file, modules) = ClusterWithModuleWeb();
        Directory.CreateDirectory(Path.Combine(modules, "not-a-module"));
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = modules, StateDirectory = State }, 1, null, error);

        Assert.IsNotNull(settings, error.ToString());
        Assert.AreEqual("web", settings.Modules.Single().Name);

        Directory.CreateDirectory(Path.Combine(modules, "broken"));
        File.WriteAllText(Path.Combine(modules, "broken", "farm.yaml"), "module:\n  name: broken\n  buckets: 300\n");
        using var error2 = new StringWriter();
        Assert.IsNull(DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = modules, StateDirectory = State }, 1, null, error2));
        StringAssert.Contains(error2.ToString(), Path.Combine(modules, "broken", "farm.yaml") + ":");
    }

    [TestMethod]
    public void Load_BadAddressMap_Reported()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", AddressMap = ["198.18.0.1-127.0.0.1"], StateDirectory = State }, 1, null, error);

        Assert.IsNull(settings);
        StringAssert.Contains(error.ToString(), "--address-map '198.18.0.1-127.0.0.1' is not FROM=TO");
    }

    [TestMethod]
    public void Load_InlineKeyInAFileReadableByOthers_RefusesToStartSayingHowToFix()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", StateDirectory = State }, 1, null, error);

        Assert.IsNull(settings);
        StringAssert.StartsWith(error.ToString(), $"farmd: the cluster key must be readable by root only, and {file} is readable by group or others (mode 0644): run 'chmod 600 {file}'; better: move the key to a key_file");
    }

    [TestMethod]
    public void Load_KeyFile_ReadsTheKeyAndRefusesItWhenOthersMayReadIt()
    {
        string key = Path.Combine(Dir, "cluster.key");
        File.WriteAllText(key, "0123456789abcdef-key-file\n");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        File.WriteAllText(file, Regex.Replace(File.ReadAllText(file), "  key: .*\n", "  key_file: cluster.key\n"));
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", StateDirectory = State }, 1, null, error);

        Assert.IsNotNull(settings, error.ToString());
        Assert.AreEqual("0123456789abcdef-key-file", settings.Cluster.Key);
        Assert.AreEqual("", error.ToString(), "a cluster file readable by all is fine once the key is elsewhere");

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        using var error2 = new StringWriter();
        Assert.IsNull(DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", StateDirectory = State }, 1, null, error2));
        StringAssert.Contains(error2.ToString(), $"{key} is readable by group or others (mode 0640)");

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite);
        using var error3 = new StringWriter();
        Assert.IsNull(DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", StateDirectory = State }, 1, null, error3));
        StringAssert.Contains(error3.ToString(), $"farmd: the cluster file must be root's own, and {file} is writable by others (mode 0602)");
    }

    [TestMethod]
    public void Load_KeyOwnedBySomeoneElse_RefusesToStart()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        var files = new FakeFileInspector { Fallback = StatxFileInspector.Instance }.Add(file, UnixFileMode.UserRead | UnixFileMode.UserWrite, uid: 1000);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", StateDirectory = State }, 1, null, error, files);

        Assert.IsNull(settings);
        StringAssert.Contains(error.ToString(), $"{file} is owned by uid 1000, not by root: run 'chown root: {file}'");
    }

    [TestMethod]
    public void Load_ModuleWithAScriptWritableByOthers_IsRefusedWithTheReasonUnlessAllowed()
    {
        var (file, modules) = ClusterWithModuleWeb();
        TestClusterFiles.WriteModule(modules, "db", buckets: 256, vip: "198.18.100.2");
        string script = Path.Combine(modules, "web", "bin", "start_both");
        Directory.CreateDirectory(Path.GetDirectoryName(script)!);
        File.WriteAllText(script, "#!/bin/sh\n");
        File.SetUnixFileMode(script, (UnixFileMode)0x1ff); // 0777
        var arguments = new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = modules, StateDirectory = State, DataPlane = DataPlaneMode.Off };
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(arguments, 1, null, error);

        Assert.IsNotNull(settings, error.ToString());
        CollectionAssert.AreEquivalent(new[] { "db", "web" }, settings.Modules.Select(m => m.Name).ToArray());
        string reason = $"its files are not root's own: {script} is writable by group and others (mode 0777): run 'chmod go-w {script}'";
        Assert.AreEqual(reason, settings.RefusedModules.Single(r => r.Key == "web").Value);
        Assert.AreEqual($"farmd: module web is refused (it will not run on this node): {reason}", error.ToString().Trim());

        using var error2 = new StringWriter();
        var allowed = DaemonSettingsLoader.Load(arguments with { AllowUntrustedModules = true }, 1, null, error2);
        Assert.IsNotNull(allowed);
        Assert.IsEmpty(allowed.RefusedModules);
        StringAssert.StartsWith(error2.ToString(), "farmd: warning: module web runs anyway (--allow-untrusted-modules): its files are not root's own");
    }

    [TestMethod]
    public void Load_TwoModulesWithOneVip_RefusesToStartNamingBoth()
    {
        var (file, modules) = ClusterWithModuleWeb();
        TestClusterFiles.WriteModule(modules, "db", buckets: 256);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = modules, StateDirectory = State, DataPlane = DataPlaneMode.Off }, 1, null, error);

        Assert.IsNull(settings);
        Assert.AreEqual(
            $"{modules}/web/farm.yaml:1:1: error: VIP 198.18.100.1 of module 'web' is also a VIP of module 'db' ({modules}/db/farm.yaml) (hint: give each module its own VIPs: a node binds each VIP once)",
            error.ToString().Trim());
    }

    [TestMethod]
    public void Load_ClockSteppedBack_IncarnationStillIncreases()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        var arguments = new DaemonArguments { ClusterFile = file, NodeName = "n1", StateDirectory = State, DataPlane = DataPlaneMode.Off };
        using var error = new StringWriter();

        long first = DaemonSettingsLoader.Load(arguments, 1_800_000_000_000, null, error)!.Incarnation;
        long afterStepBack = DaemonSettingsLoader.Load(arguments, 1_799_999_940_000, null, error)!.Incarnation;
        long later = DaemonSettingsLoader.Load(arguments, 1_800_000_100_000, null, error)!.Incarnation;

        Assert.AreEqual((1_800_000_000_000, 1_800_000_000_001, 1_800_000_100_000), (first, afterStepBack, later));
        Assert.AreEqual("", error.ToString());
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(State, "incarnation-n1")));
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(State));
    }

    [TestMethod]
    public void Load_ConfigFileOverTheSizeLimit_IsRefusedBeforeReading()
    {
        string file = Path.Combine(Dir, "cluster.yaml");
        using (var stream = File.Create(file))
        {
            stream.SetLength(2L * 1024 * 1024 * 1024); // sparse: 2 GiB the loader must not read
        }

        using var error = new StringWriter();

        Assert.IsNull(DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", StateDirectory = State }, 1, null, error));
        StringAssert.StartsWith(error.ToString(), $"{file}:1:1: error: cannot read the file: the file holds 2147483648 bytes, more than the limit of 1048576");
    }

    /// <summary>A cluster file (port 9400) and a modules folder holding module "web" (256 buckets), in this test's folder.</summary>
    private (string ClusterFile, string Modules) ClusterWithModuleWeb()
    {
        string file = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        string modules = Path.Combine(Dir, "modules");
        TestClusterFiles.WriteModule(modules, "web", buckets: 256);
        return (file, modules);
    }
}
