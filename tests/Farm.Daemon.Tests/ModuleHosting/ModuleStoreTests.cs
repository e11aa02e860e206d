using Farm.Core.Bundles;
using Farm.Testing.Bundles;

namespace Farm.Daemon.Tests.ModuleHosting;

/// <summary>Bundles on disk: versions beside each other, the link swapped atomically, rollback, remove, and nothing changed on a refusal.</summary>
[TestClass]
public sealed class ModuleStoreTests() : TempDirectoryTest("farm-store-")
{
    private string Modules => Path.Combine(Dir, "modules");

    [TestMethod]
    public void Install_TwoVersions_LinkOnNewestPreviousKeptModesAndHashesAsPacked()
    {
        var store = NewStore();

        Assert.AreEqual("installed", store.Install(Bundle("1.0.0", "one")));
        Assert.AreEqual("installed", store.Install(Bundle("2.0.0", "two")));

        Assert.AreEqual(".versions/app/2.0.0", new FileInfo(Path.Combine(Modules, "app")).LinkTarget);
        Assert.AreEqual(("2.0.0", "1.0.0"), (store.CurrentVersion("app"), store.PreviousVersion("app")));
        Assert.AreEqual("echo two\n", File.ReadAllText(Path.Combine(Modules, "app", "bin", "start_both")).Split('\n', 2)[1]);
        Assert.AreEqual((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(Modules, "app", "bin", "start_both")), "the script's mode as packed");
        var listed = store.List().Single();
        Assert.AreEqual(("app", "2.0.0", "1.0.0", 0), (listed.Name, listed.Version, listed.Previous, listed.Problems.Count));
        Assert.AreEqual(BundleManifest.Sha256(File.ReadAllBytes(Path.Combine(Modules, "app", BundlePaths.Manifest))), listed.Hash);
        Assert.IsFalse(Directory.EnumerateFileSystemEntries(Path.Combine(Modules, ".versions", "app")).Any(e => Path.GetFileName(e).StartsWith(".staging", StringComparison.Ordinal)), "no staging folder left");

        // A third version: the oldest is deleted, current and previous stay.
        store.Install(Bundle("3.0.0", "three"));
        CollectionAssert.AreEquivalent(new[] { "2.0.0", "3.0.0", "previous" }, Directory.EnumerateFileSystemEntries(Path.Combine(Modules, ".versions", "app")).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void Install_SameBundleAgain_Unchanged_SameVersionOtherContent_Refused()
    {
        var store = NewStore();
        var bundle = Bundle("1.0.0", "one");
        store.Install(bundle);

        Assert.AreEqual("unchanged", store.Install(bundle));
        var error = Assert.ThrowsExactly<ModuleStoreException>(() => store.Install(Bundle("1.0.0", "changed")));
        StringAssert.Contains(error.Message, "app 1.0.0 is already installed with other content");
        StringAssert.Contains(error.Message, "give the new bundle a higher version");
        Assert.AreEqual("echo one\n", File.ReadAllText(Path.Combine(Modules, "app", "bin", "start_both")).Split('\n', 2)[1]);
    }

    [TestMethod]
    public void Install_UntrustedModulesFolder_RefusedAndNothingInstalled()
    {
        Directory.CreateDirectory(Modules);
        var inspector = new FakeFileInspector { Fallback = StatxFileInspector.Instance }.Add(Path.GetFullPath(Modules), (UnixFileMode)0b111_111_111, kind: Core.Security.FileKind.Directory);
        var store = new ModuleStore(Modules, inspector);

        var error = Assert.ThrowsExactly<ModuleStoreException>(() => store.Install(Bundle("1.0.0", "one")));

        StringAssert.StartsWith(error.Message, "the unpacked bundle does not check out: ");
        StringAssert.Contains(error.Message, "writable by");
        Assert.IsNull(new FileInfo(Path.Combine(Modules, "app")).LinkTarget);
        Assert.IsFalse(Directory.Exists(Path.Combine(Modules, "app")));
        Assert.AreEqual(0, Directory.GetFileSystemEntries(Path.Combine(Modules, ".versions", "app")).Length, "no version, no staging folder left");
    }

    [TestMethod]
    public void Install_OtherFarmReleaseOrHandCopiedFolder_RefusedSayingWhatToDo()
    {
        var store = NewStore();
        string folder = Path.Combine(Dir, "src");
        WriteModule(folder, "one");
        var (future, _) = ModuleBundle.Read(new MemoryStream(TestBundles.Pack(folder, "1.0.0", FarmVersionRange.Parse(">=99.0", out _))), "b");
        Directory.CreateDirectory(Path.Combine(Modules, "app"));

        var release = Assert.ThrowsExactly<ModuleStoreException>(() => store.Install(future!));
        var byHand = Assert.ThrowsExactly<ModuleStoreException>(() => store.Install(Bundle("1.0.0", "one")));

        StringAssert.StartsWith(release.Message, "bundle app 1.0.0 runs on Farm >=99.0, this node runs Farm ");
        StringAssert.Contains(byHand.Message, "exists and is not a bundle link (a folder copied by hand?): move it away");
    }

    [TestMethod]
    public void RollbackThenRemove_SwapsBackAndDeletesEveryVersion()
    {
        var store = NewStore();
        store.Install(Bundle("1.0.0", "one"));
        Assert.ThrowsExactly<ModuleStoreException>(() => store.Rollback("app"), "no previous version yet");
        store.Install(Bundle("2.0.0", "two"));

        Assert.AreEqual("1.0.0", store.Rollback("app"));
        Assert.AreEqual(("1.0.0", "2.0.0"), (store.CurrentVersion("app"), store.PreviousVersion("app")));
        Assert.AreEqual("2.0.0", store.Rollback("app"), "a second rollback goes forward again");

        store.Remove("app");
        Assert.IsFalse(File.Exists(Path.Combine(Modules, "app")) || Directory.Exists(Path.Combine(Modules, "app")));
        Assert.IsFalse(Directory.Exists(Path.Combine(Modules, ".versions", "app")));
        Assert.AreEqual(0, store.List().Count);
        StringAssert.Contains(Assert.ThrowsExactly<ModuleStoreException>(() => store.Remove("app")).Message, "is not a module installed from a bundle");
    }

    [TestMethod]
    public void List_FileChangedAfterInstall_NamesTheFile()
    {
        var store = NewStore();
        store.Install(Bundle("1.0.0", "one"));
        File.AppendAllText(Path.Combine(Modules, "app", "bin", "start_both"), "rm -rf /\n");

        var listed = store.List().Single();

        CollectionAssert.AreEqual(new[] { "bin/start_both: its SHA-256 differs from the manifest's (altered after packing)" }, listed.Problems.ToArray());
    }

    [TestMethod]
    public void Reshaping_ScriptsAndCheckersLive_SeedInterfaceDrainReshape()
    {
        var running = ConfigParser.ParseModule(Yaml("seed: 1", "timeouts: { drain: 5s, start: 10s }"), "a").Value!;
        var live = ConfigParser.ParseModule(Yaml("seed: 1", "timeouts: { drain: 5s, start: 20s }"), "b").Value!;
        var shape = ConfigParser.ParseModule(Yaml("seed: 2", "timeouts: { drain: 9s }").Replace("eth0", "eth1", StringComparison.Ordinal), "c").Value!;

        CollectionAssert.AreEqual(Array.Empty<string>(), ModuleReloadPlan.Reshaping(running, live).ToArray());
        CollectionAssert.AreEqual(new[] { "seed", "interface", "timeouts.drain" }, ModuleReloadPlan.Reshaping(running, shape).ToArray());
    }

    private static string Yaml(string seed, string timeouts) =>
        $"module:\n  name: app\n  vips: [198.18.100.1]\n  interface: eth0\n  {seed}\n  {timeouts}\n  rules:\n    - {{ protocol: tcp, ports: 80 }}\n";

    private ModuleStore NewStore()
    {
        Directory.CreateDirectory(Modules);
        return new ModuleStore(Modules, StatxFileInspector.Instance);
    }

    private ModuleBundle Bundle(string version, string greeting)
    {
        string folder = Path.Combine(Dir, "src-" + Guid.NewGuid().ToString("N"));
        WriteModule(folder, greeting);
        var (bundle, problems) = ModuleBundle.Read(new MemoryStream(TestBundles.Pack(folder, version)), "b");
        Assert.IsNotNull(bundle, string.Join("\n", problems));
        return bundle;
    }

    private static void WriteModule(string folder, string greeting)
    {
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        File.WriteAllText(Path.Combine(folder, "farm.yaml"), Yaml("seed: 1", "timeouts: { drain: 1s }"));
        string script = Path.Combine(folder, "bin", "start_both");
        File.WriteAllText(script, $"#!/bin/sh\necho {greeting}\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
    }
}
