using Farm.Daemon.Hosting;
using Farm.Daemon.Tests.TestSupport;

namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class DaemonSettingsLoaderTests
{
    private string dir = null!;

    [TestInitialize]
    public void Setup() => dir = Directory.CreateTempSubdirectory("farmd-settings-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(dir, recursive: true);

    [TestMethod]
    public async Task RunAsync_ConfigErrors_PrintedWithFileLineColumnAndExitOne()
    {
        string file = Path.Combine(dir, "cluster.yaml");
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

        int code = await DaemonApp.RunAsync(["--cluster", Path.Combine(dir, "nope.yaml"), "--node", "n1"], output, error);

        Assert.AreEqual(1, code);
        StringAssert.Contains(error.ToString(), "nope.yaml:1:1: error: file not found");
    }

    [TestMethod]
    public void Load_UnknownNode_ListsTheValidNames()
    {
        string file = TestClusterFiles.Write(dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n9" }, 1, null, error);

        Assert.IsNull(settings);
        Assert.AreEqual($"farmd: node 'n9' is not in {file}; its nodes are: n1, n2, n3, n4", error.ToString().Trim());
    }

    [TestMethod]
    public void Load_NoNodeGiven_NodeNamedLikeTheHostFullOrShortAnyCase()
    {
        string file = TestClusterFiles.Write(dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var exact = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, HostName = "n3" }, 1, null, error);
        var fqdn = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, HostName = "N2.farm.example.org" }, 1, null, error);

        Assert.AreEqual("", error.ToString());
        Assert.AreEqual(("n3", "n2"), (exact?.Self.Name, fqdn?.Self.Name));
    }

    [TestMethod]
    public void Load_NoNodeGivenAndHostNotANode_NamesHostNodesAndOverride()
    {
        string file = TestClusterFiles.Write(dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, HostName = "web7" }, 1, null, error);

        Assert.IsNull(settings);
        StringAssert.Contains(error.ToString(), $"this host's name 'web7' is not a node of {file}; its nodes are: n1, n2, n3, n4");
        StringAssert.Contains(error.ToString(), "FARMD_OPTS=\"--node n1\" in /etc/default/farmd");
    }

    [TestMethod]
    public void Load_DefaultModulesDirectoryMissing_NoModulesButAGivenOneMustExist()
    {
        string file = TestClusterFiles.Write(dir, "cluster.yaml", 9400);
        string missing = Path.Combine(dir, "no-modules");
        using var error = new StringWriter();

        var defaulted = DaemonSettingsLoader.Load(
            new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = missing, ModulesDirectoryOptional = true }, 1, null, error);
        var given = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = missing }, 1, null, error);

        Assert.IsNotNull(defaulted);
        Assert.AreEqual(0, defaulted.Modules.Count);
        Assert.IsNull(given);
        StringAssert.Contains(error.ToString(), $"modules directory '{missing}' does not exist");
    }

    [TestMethod]
    public void Load_ModulesDirectory_EveryModuleLoadedAndBadOnesReported()
    {
        string file = TestClusterFiles.Write(dir, "cluster.yaml", 9400);
        string modules = Path.Combine(dir, "modules");
        TestClusterFiles.WriteModule(modules, "web", buckets: 256);
        Directory.CreateDirectory(Path.Combine(modules, "not-a-module"));
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = modules }, 1, null, error);

        Assert.IsNotNull(settings, error.ToString());
        Assert.AreEqual("web", settings.Modules.Single().Name);

        Directory.CreateDirectory(Path.Combine(modules, "broken"));
        File.WriteAllText(Path.Combine(modules, "broken", "farm.yaml"), "module:\n  name: broken\n  buckets: 300\n");
        using var error2 = new StringWriter();
        Assert.IsNull(DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", ModulesDirectory = modules }, 1, null, error2));
        StringAssert.Contains(error2.ToString(), Path.Combine(modules, "broken", "farm.yaml") + ":");
    }

    [TestMethod]
    public void Load_BadAddressMap_Reported()
    {
        string file = TestClusterFiles.Write(dir, "cluster.yaml", 9400);
        using var error = new StringWriter();

        var settings = DaemonSettingsLoader.Load(new DaemonArguments { ClusterFile = file, NodeName = "n1", AddressMap = ["198.18.0.1-127.0.0.1"] }, 1, null, error);

        Assert.IsNull(settings);
        StringAssert.Contains(error.ToString(), "--address-map '198.18.0.1-127.0.0.1' is not FROM=TO");
    }
}
