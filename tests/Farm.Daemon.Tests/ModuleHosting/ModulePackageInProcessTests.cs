using Farm.Core.Bundles;
using Farm.Protocol.V1;
using Farm.Testing.Bundles;

namespace Farm.Daemon.Tests.ModuleHosting;

/// <summary>
/// Two in-process farmd nodes (data plane off), each with its own modules folder, running a bundle-installed module
/// beside one copied by hand (the cluster file names n3 and n4 too; they do not run): install on both over the sealed relay reloads the module live on both (drain, stop, swap,
/// start) while the other module keeps running, a changed bundle is refused everywhere, rollback and remove.
/// </summary>
[TestClass]
public sealed class ModulePackageInProcessTests() : LoggedTempDirectoryTest("farmd-packages-")
{
    [TestMethod]
    public async Task InstallAll_RollbackAll_RemoveAll_ReloadsLiveOtherModuleUndisturbed()
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        await using var nodes = await InProcessNodes.StartAsync(["n1", "n2"], name => StartNodeAsync(clusterFile, name, withApp: true));

        using var admin1 = FarmdAdminClient.ForSocket(nodes[0].Socket);
        using var admin2 = FarmdAdminClient.ForSocket(nodes[1].Socket);
        await SharedAsync(admin1, "both modules shared by n1 and n2");
        var otherStarted = nodes.Select(n => n.Node.Modules.Snapshot().Single(m => m.Config.Name == "other").Status.Since).ToList();

        // Install v2 everywhere through n1's socket: n2 is reached over TCP, sealed with the cluster key.
        var installed = await ManageAsync(admin1, new ModulePackageQuery { Action = ModulePackageAction.Install, Bundle = ByteString.CopyFrom(Pack("v2", "2.0.0", startTimeout: "20s")), Nodes = { "n1", "n2" } });
        CollectionAssert.AreEqual(new[] { "n1", "n2" }, installed.Results.Select(r => r.Node).ToArray());
        foreach (var r in installed.Results)
        {
            Assert.AreEqual(("", "installed"), (r.Error, r.Outcome), installed.ToString());
            StringAssert.StartsWith(r.Detail, "reloaded: drained, stopped, swapped, started (UP/Ready)", installed.ToString());
            var app = r.Modules.Single(m => m.Module == "app");
            Assert.AreEqual(("2.0.0", "2.0.0", "1.0.0", "UP/Ready"), (app.Version, app.RunningVersion, app.PreviousVersion, app.State), installed.ToString());
            Assert.AreEqual("", r.Modules.Single(m => m.Module == "other").Version, "a folder copied by hand has no version");
        }

        await SharedAsync(admin1, "both modules shared again after the reload");
        var lines = await LogsAsync(admin2, "app");
        int closed = lines.FindLastIndex(l => l.StartsWith("Module app: traffic closed, the peers own this node's buckets", StringComparison.Ordinal));
        int v2 = lines.FindIndex(l => l.Contains("start_both: v2 on n2", StringComparison.Ordinal));
        Assert.IsTrue(closed >= 0 && v2 > closed, "n2 handed its buckets over before the new version started:\n" + string.Join("\n", lines));
        CollectionAssert.AreEqual(otherStarted, nodes.Select(n => n.Node.Modules.Snapshot().Single(m => m.Config.Name == "other").Status.Since).ToList(), "the other module never restarted");

        // A bundle changed after packing is refused by every node, and nothing changes.
        var entries = TestBundles.Entries(Pack("v3", "3.0.0", startTimeout: "20s"));
        int i = entries.FindIndex(e => e.Name == "bin/start_both");
        entries[i] = (entries[i].Name, "#!/bin/sh\necho tampered\n"u8.ToArray(), entries[i].UnixMode);
        var tampered = await ManageAsync(admin1, new ModulePackageQuery { Action = ModulePackageAction.Install, Bundle = ByteString.CopyFrom(TestBundles.Zip(entries)), Nodes = { "n1", "n2" } });
        Assert.IsTrue(tampered.Results.All(r => r.Error.Contains("bin/start_both: its SHA-256 differs from the manifest's", StringComparison.Ordinal)), tampered.ToString());
        var listed = await ManageAsync(admin2, new ModulePackageQuery { Action = ModulePackageAction.List });
        Assert.AreEqual("2.0.0", listed.Results.Single().Modules.Single(m => m.Module == "app").RunningVersion);

        // Rollback everywhere: v1 runs again.
        var rolled = await ManageAsync(admin1, new ModulePackageQuery { Action = ModulePackageAction.Rollback, Module = "app", Nodes = { "n1", "n2" } });
        Assert.IsTrue(rolled.Results.All(r => r.Outcome == "rolled back to 1.0.0" && r.Modules.Single(m => m.Module == "app").RunningVersion == "1.0.0"), rolled.ToString());
        await SharedAsync(admin1, "both modules shared after the rollback");

        // Remove everywhere: the buckets go to nobody, the module is unloaded, its files are gone; other still runs.
        var removed = await ManageAsync(admin1, new ModulePackageQuery { Action = ModulePackageAction.Remove, Module = "app", Nodes = { "n1", "n2" } });
        Assert.IsTrue(removed.Results.All(r => r.Outcome == "removed" && r.Detail == "drained, stopped and unloaded" && r.Modules.All(m => m.Module == "other")), removed.ToString());
        var status = await admin1.GetStatusAsync();
        Assert.AreEqual("removed: unloaded (farmctl module remove)", status.Modules.Single(m => m.Module == "app").Reason);
        Assert.AreEqual(ModuleRunState.Up, status.Modules.Single(m => m.Module == "other").State);
        Assert.IsFalse(Directory.Exists(Path.Combine(Dir, "n2-modules", "app")));
        var start = await Assert.ThrowsExactlyAsync<ArgumentException>(() => nodes[0].Node.Modules.ControlAsync("app", ModuleAdminAction.Start, "test", TimeSpan.Zero, CancellationToken.None));
        StringAssert.Contains(start.Message, "was removed from this node");
    }

    [TestMethod]
    public async Task InstallAll_NewModuleThenSeedChange_LoadedAndRedefinedLiveOtherModuleUndisturbed()
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        await using var nodes = await InProcessNodes.StartAsync(["n1", "n2"], name => StartNodeAsync(clusterFile, name, withApp: false)); // farmd starts without app: only other runs

        using var admin1 = FarmdAdminClient.ForSocket(nodes[0].Socket);
        await Poll.UntilAsync(() => admin1.GetStatusAsync(), s => s.Nodes.Count(n => n.InView) == 2, "both nodes in one view", TimeSpan.FromSeconds(20), CancellationToken.None);
        var otherStarted = nodes.Select(n => n.Node.Modules.Snapshot().Single(m => m.Config.Name == "other").Status.Since).ToList();

        var installed = await ManageAsync(admin1, new ModulePackageQuery { Action = ModulePackageAction.Install, Bundle = ByteString.CopyFrom(Pack("v1", "1.0.0", startTimeout: "10s")), Nodes = { "n1", "n2" } });
        foreach (var r in installed.Results)
        {
            Assert.AreEqual(("", "installed", "loaded: started (UP/Ready)"), (r.Error, r.Outcome, r.Detail), installed.ToString());
        }

        await SharedAsync(admin1, "app loaded live and shared by n1 and n2, beside other");

        // A new seed reshapes the module: reloaded live on both, its data plane and definition replaced.
        var reseeded = await ManageAsync(admin1, new ModulePackageQuery { Action = ModulePackageAction.Install, Bundle = ByteString.CopyFrom(Pack("v2", "2.0.0", startTimeout: "10s", seed: 7)), Nodes = { "n1", "n2" } });
        foreach (var r in reseeded.Results)
        {
            Assert.AreEqual(("", "installed", "reloaded: drained, stopped, swapped (seed changed: data plane rebuilt), started (UP/Ready)"), (r.Error, r.Outcome, r.Detail), reseeded.ToString());
        }

        await SharedAsync(admin1, "app shared again with the new seed");
        var definitions = nodes.Select(n => n.Node.Host.Read((m, _) => m.Self.DefinitionOf("app")!.Settings)).ToList();
        Assert.IsTrue(definitions.All(d => d.Contains("seed=7")), string.Join("\n", definitions.SelectMany(d => d)));
        Assert.IsTrue(nodes.All(n => n.Node.Host.Read((m, _) => m.ModuleMismatches.Count == 0)));
        CollectionAssert.AreEqual(otherStarted, nodes.Select(n => n.Node.Modules.Snapshot().Single(m => m.Config.Name == "other").Status.Since).ToList(), "the other module never restarted");
    }

    /// <summary>Node <paramref name="name"/> with its own modules folder: other (copied by hand) and, with <paramref name="withApp"/>, app 1.0.0 installed from a bundle.</summary>
    private async Task<InProcessNode> StartNodeAsync(string clusterFile, string name, bool withApp)
    {
        string modules = Path.Combine(Dir, name + "-modules");
        Directory.CreateDirectory(modules);
        var other = TestClusterFiles.WriteModule(modules, "other", buckets: 256, vip: "198.18.100.2");
        WriteScript(Path.Combine(modules, "other", "bin", "start_both"), "echo other started");
        var directories = new Dictionary<string, string> { ["other"] = Path.Combine(modules, "other") };
        if (!withApp)
        {
            return await InProcessNode.StartAsync(clusterFile, name, Dir, Logs, [other], directories, modulesDirectory: modules);
        }

        var store = new ModuleStore(modules, StatxFileInspector.Instance);
        store.Install(Read(Pack("v1", "1.0.0", startTimeout: "10s")));
        var app = ConfigParser.ParseModule(File.ReadAllText(Path.Combine(modules, "app", "farm.yaml")), "farm.yaml").Value!;
        directories["app"] = store.FolderOf("app", "1.0.0");
        return await InProcessNode.StartAsync(clusterFile, name, Dir, Logs, [app, other], directories, modulesDirectory: modules);
    }

    private static async Task<ModulePackageAnswer> ManageAsync(FarmdAdminClient admin, ModulePackageQuery query)
    {
        query.RequestedBy = "test";
        var reply = await admin.Client.ManageModulePackageAsync(new ModulePackageRequest { Query = query }).ResponseAsync.WithTimeout(TimeSpan.FromSeconds(60));
        return reply.Answer;
    }

    private static Task<NodeStatusReport> SharedAsync(FarmdAdminClient admin, string what) => Poll.UntilAsync(
        () => admin.GetStatusAsync(),
        s => s.Nodes.Where(n => n.Name is "n1" or "n2").All(n => n.InView && n.Buckets.Count == 2 && n.Buckets.All(b => b.Readiness == ModuleReadiness.Ready && b.Buckets == b.BucketCount / 2)),
        what,
        TimeSpan.FromSeconds(20),
        CancellationToken.None);

    private static async Task<List<string>> LogsAsync(FarmdAdminClient admin, string module)
    {
        var lines = new List<string>();
        await foreach (var batch in admin.ModuleLogsAsync(new ModuleLogsQuery { Module = module }))
        {
            lines.AddRange(batch.Lines.Select(l => l.Text));
        }

        return lines;
    }

    private static ModuleBundle Read(byte[] bundle)
    {
        var (read, problems) = ModuleBundle.Read(new MemoryStream(bundle), "b");
        Assert.IsNotNull(read, string.Join("\n", problems));
        return read;
    }

    /// <summary>Module "app" (256 buckets) whose start_both says <paramref name="greeting"/>, packed as <paramref name="version"/>.</summary>
    private byte[] Pack(string greeting, string version, string startTimeout, int? seed = null)
    {
        string folder = Path.Combine(Dir, $"src-{version}");
        Directory.CreateDirectory(Path.Combine(folder, "bin"));
        File.WriteAllText(Path.Combine(folder, "farm.yaml"),
            $"module:\n  name: app\n  vips: [198.18.100.1]\n  interface: eth0\n  buckets: 256\n{(seed is { } s ? $"  seed: {s}\n" : "")}  timeouts: {{ start: {startTimeout}, drain: 1s }}\n  rules:\n    - {{ protocol: tcp, ports: 80 }}\n");
        WriteScript(Path.Combine(folder, "bin", "start_both"), $"echo \"{greeting} on $FARM_NODE\"");
        return TestBundles.Pack(folder, version);
    }

    private static void WriteScript(string path, string line)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $"#!/bin/sh\n{line}\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }
}
