using Farm.Protocol.V1;

namespace Farm.Daemon.Tests.ModuleHosting;

/// <summary>Two in-process farmd nodes (data plane off) running a module with real scripts: gate, admin control, relay, logs.</summary>
[TestClass]
public sealed class ModuleHostInProcessTests() : LoggedTempDirectoryTest("farmd-modules-")
{
    [TestMethod]
    public async Task BootStopAndRelay_TwoNodes_GateOpensClosesBeforeStopBothAndRelaysOverTcp()
    {
        var (clusterFile, module, moduleDir) = ClusterWithModuleApp();
        foreach (string script in new[] { "start_both", "stop_both" })
        {
            string path = Path.Combine(moduleDir, "bin", script);
            await File.WriteAllTextAsync(path, $"#!/bin/bash\necho \"{script} on $FARM_NODE epoch $FARM_EPOCH\"\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var directories = new Dictionary<string, string> { ["app"] = moduleDir };
        await using var n1 = await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs, [module], directories);
        await using var n2 = await InProcessNode.StartAsync(clusterFile, "n2", Dir, Logs, [module], directories);
        using var admin1 = FarmdAdminClient.ForSocket(n1.Socket);

        // Boot: both run start_both, announce the module ready, and share its buckets.
        var status = await Poll.UntilAsync(() => admin1.GetStatusAsync(),
            s => s.Nodes.Where(n => n.Name is "n1" or "n2").All(n => n.InView && n.Buckets.Single().Readiness == ModuleReadiness.Ready && n.Buckets.Single().Buckets == 128),
            "n1 and n2 share the module's buckets", TimeSpan.FromSeconds(15), CancellationToken.None);
        var mine = status.Modules.Single();
        Assert.AreEqual(ModuleRunState.Up, mine.State);
        Assert.AreEqual(ModuleSubState.Ready, mine.SubState);
        Assert.IsTrue(mine.TrafficOpen);
        Assert.AreEqual("off", mine.DataPlane);

        // Stop n1 through its socket: it leaves the module's view first (n2 owns everything), then stop_both runs.
        var stop = await admin1.ControlModuleAsync(new ModuleControlQuery { Module = "app", Action = ModuleAction.Stop, RequestedBy = "test", WaitMs = 10_000 }).WithTimeout();
        var result = stop.Results.Single();
        Assert.AreEqual("n1", result.Node);
        Assert.IsTrue(result.Settled);
        Assert.AreEqual(ModuleRunState.Stop, result.Module.State);
        Assert.AreEqual("admin stop by test", result.Module.Reason);
        Assert.AreEqual(256, n2.Node.Host.Read((m, _) => m.Installed!.Tables["app"].CountOf("n2")));

        var lines = await LogsAsync(admin1, "app");
        int closed = lines.FindIndex(l => l.StartsWith("Module app: traffic closed, the peers own this node's buckets", StringComparison.Ordinal));
        int stopBoth = lines.FindIndex(l => l.StartsWith("Module app: running stop_both", StringComparison.Ordinal));
        Assert.IsTrue(closed >= 0 && stopBoth > closed, string.Join("\n", lines));
        Assert.IsTrue(lines.Any(l => l.StartsWith("app/stop_both: stop_both on n1 epoch ", StringComparison.Ordinal)), "script output is in the module's log");

        // Relay: n1's socket starts the module on n1 and n2 (n2 is asked over TCP with the cluster key).
        var start = await admin1.ControlModuleAsync(new ModuleControlQuery { Module = "app", Action = ModuleAction.Restart, Nodes = { "n1", "n2" }, WaitMs = 10_000 }).WithTimeout();
        CollectionAssert.AreEqual(new[] { "n1", "n2" }, start.Results.Select(r => r.Node).ToArray());
        Assert.IsTrue(start.Results.All(r => r.Error.Length == 0 && r.Module.State == ModuleRunState.Up && r.Settled), start.ToString());
        using var admin2 = FarmdAdminClient.ForSocket(n2.Socket);
        var n2Lines = await LogsAsync(admin2, "app");
        Assert.IsTrue(n2Lines.Any(l => l.Contains("admin restart", StringComparison.Ordinal)), string.Join("\n", n2Lines));

        // Unknown module or node: INVALID_ARGUMENT naming what exists.
        var error = await Assert.ThrowsExactlyAsync<Grpc.Core.RpcException>(() => admin1.ControlModuleAsync(
            new ModuleControlQuery { Module = "nope", Action = ModuleAction.Start, Nodes = { "n9" } }));
        StringAssert.Contains(error.Status.Detail, "unknown module 'nope' (modules: app)");
        StringAssert.Contains(error.Status.Detail, "unknown node 'n9'");
    }

    [TestMethod]
    public async Task Boot_RefusedModule_NeverRunsAndStatusAndAdminStartSayWhy()
    {
        var (clusterFile, module, moduleDir) = ClusterWithModuleApp();
        string marker = Path.Combine(Dir, "ran");
        string script = Path.Combine(moduleDir, "bin", "start_both");
        await File.WriteAllTextAsync(script, $"#!/bin/bash\ntouch '{marker}'\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        const string Reason = "its files are not root's own: bin/start_both is writable by others";

        await using var n1 = await InProcessNode.StartAsync(
            clusterFile, "n1", Dir, Logs, [module], new Dictionary<string, string> { ["app"] = moduleDir }, new Dictionary<string, string> { ["app"] = Reason });

        var runtime = n1.Node.Modules.Snapshot().Single();
        Assert.AreEqual((Farm.Modules.ModuleState.Stop, Farm.Modules.ModuleSubState.NotReady, "refused: " + Reason), (runtime.Status.State, runtime.Status.SubState, runtime.Status.Reason));
        Assert.AreEqual("refused", runtime.DataPlane);
        var error = await Assert.ThrowsExactlyAsync<ArgumentException>(() => n1.Node.Modules.ControlAsync("app", Farm.Daemon.ModuleHosting.ModuleAdminAction.Start, "test", TimeSpan.Zero, CancellationToken.None));
        Assert.AreEqual($"module 'app' cannot run on this node: it is refused because {Reason}", error.Message);
        Assert.IsFalse(File.Exists(marker), "start_both of a refused module ran");
    }

    private static async Task<List<string>> LogsAsync(FarmdAdminClient admin, string module)
    {
        var lines = new List<string>();
        await foreach (var batch in admin.ModuleLogsAsync(new ModuleLogsQuery { Module = module }))
        {
            lines.AddRange(batch.Lines.Select(l => l.Text));
        }

        return lines;
    }

    /// <summary>A cluster file on a free port and module "app" (256 buckets) with an empty bin folder, in this test's folder.</summary>
    private (string ClusterFile, ModuleConfig Module, string ModuleDir) ClusterWithModuleApp()
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        string modules = Path.Combine(Dir, "modules");
        var module = TestClusterFiles.WriteModule(modules, "app", buckets: 256);
        string moduleDir = Path.Combine(modules, "app");
        Directory.CreateDirectory(Path.Combine(moduleDir, "bin"));
        return (clusterFile, module, moduleDir);
    }
}
