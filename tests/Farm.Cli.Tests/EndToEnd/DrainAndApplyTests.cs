using Farm.Protocol.V1;

namespace Farm.Cli.Tests.EndToEnd;

/// <summary>
/// farmctl drain/resume and config apply (and SIGHUP) against three real farmd processes on 127.0.0.1-3, each with its
/// own copy of the cluster file, as on real nodes.
/// </summary>
[TestClass]
public sealed class DrainAndApplyTests
{
    private const string Key = "farmctl-drain-cluster-key-0123456789";
    private const int Buckets = 1024;
    private static readonly string[] Names = ["n1", "n2", "n3"];

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("drain", "NODE")]
    [DataRow("resume", "NODE")]
    public void Help_DrainAndResume_ShowTheirUsage(string command, string argument)
    {
        var run = CliRun.Of(command, "--help");
        Assert.AreEqual(0, run.ExitCode, run.Error);
        StringAssert.Contains(run.Output, argument);
        StringAssert.Contains(run.Output, "--json");
        Assert.AreEqual(command == "drain", run.Output.Contains("--wait", StringComparison.Ordinal), run.Output);
    }

    [TestMethod]
    public void Help_ConfigApply_ShowsItsUsage()
    {
        var run = CliRun.Of("config", "apply", "--help");
        Assert.AreEqual(0, run.ExitCode, run.Error);
        StringAssert.Contains(run.Output, "FILE");
        StringAssert.Contains(run.Output, "--json");
        StringAssert.Contains(run.Output, "version");
    }

    [TestMethod]
    [DataRow(new[] { "drain" }, "Required argument 'NODE' missing")]
    [DataRow(new[] { "resume", "n1", "--wait" }, "Unrecognized command or argument '--wait'")]
    [DataRow(new[] { "config", "apply" }, "Required argument 'FILE' missing")]
    public void Run_BadDrainOrApplyCommandLine_IsUsageErrorExitTwo(string[] args, string message)
    {
        var run = CliRun.Of(args);
        Assert.AreEqual(2, run.ExitCode, run.Output);
        StringAssert.Contains(run.Error, message);
    }

    [TestMethod]
    public async Task ConfigApply_MissingFile_SaysSoWithoutAskingFarmd()
    {
        var run = await TestCli.RunAsync(["config", "apply", "/nonexistent/cluster.yaml", "--socket", "/nonexistent/farmd.sock"]).WithTimeout();
        Assert.AreEqual((CliApp.ExitFailed, "farmctl: cannot read /nonexistent/cluster.yaml: no such file\n"), (run.ExitCode, run.Error));
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public async Task DrainResumeApplyReload_ThreeFarmdProcesses_MoveOnlyTheShareAskedFor()
    {
        await using var farm = new LoopbackFarmd("farmctl-drain-");
        string dir = farm.Directory;
        var cluster = farm.Cluster("farmctl-drain", Key);
        // Short drains: a drained node is done a little after the view moved its buckets.
        string modules = farm.WriteModule(LoopbackFarmd.Module("web", Buckets) with { Timeouts = new ModuleTimeoutOptions { Drain = TimeSpan.FromSeconds(2) } });
        var files = Names.ToDictionary(n => n, n => FileOf(dir, n));
        foreach (var (name, file) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            FarmConfigFiles.WriteCluster(cluster, file);
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            foreach (string name in Names)
            {
                farm.Start(name, files[name], modules);
            }

            await farm.WaitForReadyAsync(TestContext.CancellationToken);
            var processes = farm.Processes;
            await WaitForSharesAsync(processes, new() { ["n1"] = 100, ["n2"] = 100, ["n3"] = 100 }, "three equal shares");

            await Drain_ThroughAnotherNode_ShareGoesToZeroAndStatusSaysDrainedAsync(processes);
            await Resume_ThroughAnotherNode_ShareComesBackAsync(processes);
            string applied = await Apply_DoubledWeight_RewritesEveryFileAndDoublesTheShareAsync(processes, dir, cluster, files);
            await Apply_OtherKeyOrOldVersion_RefusedAndNothingWrittenAsync(processes, dir, cluster, files, applied);
            await Sighup_EditedFile_AppliedOnThatNodeAndABadEditRefusedAsync(processes, cluster, files);
        }
        catch
        {
            farm.WriteOutputs(TestContext.WriteLine);
            throw;
        }
    }

    private async Task Drain_ThroughAnotherNode_ShareGoesToZeroAndStatusSaysDrainedAsync(IReadOnlyList<FarmdProcess> processes)
    {
        var ct = TestContext.CancellationToken;
        string n1 = processes[0].AdminSocket;
        var unknown = await TestCli.RunAsync(["drain", "n9", "--socket", n1], cancellationToken: ct).WithTimeout();
        Assert.AreEqual((CliApp.ExitFailed, "farmctl: unknown node 'n9' (nodes: n1, n2, n3)\n"), (unknown.ExitCode, unknown.Error));

        // n1 relays the drain to n2, which still owns its buckets when it answers.
        var drain = await TestCli.RunAsync(["drain", "n2", "--json", "--socket", n1], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, drain.ExitCode, drain.Output + drain.Error);
        using (var doc = JsonDocument.Parse(drain.Output))
        {
            var root = doc.RootElement;
            Assert.AreEqual(("n2", "drain", true, "draining", JsonValueKind.Null),
                (root.GetProperty("node").GetString(), root.GetProperty("action").GetString(), root.GetProperty("changed").GetBoolean(),
                 root.GetProperty("state").GetString(), root.GetProperty("error").ValueKind), drain.Output);
        }

        // Draining again is fine, and --wait follows it until it is drained.
        var wait = await TestCli.RunAsync(["drain", "n2", "--wait", "--socket", n1], cancellationToken: ct).WithTimeout(TimeSpan.FromSeconds(30));
        Assert.AreEqual(CliApp.ExitOk, wait.ExitCode, wait.Output + wait.Error);
        StringAssert.StartsWith(wait.Output, "n2 is already drained, nothing changed");
        StringAssert.Matches(wait.Output, new System.Text.RegularExpressions.Regex(@"(?m)^n2: \d+ buckets? owned, \d+ incoming, \d+ draining"), "progress, as n2 reports it");
        StringAssert.Matches(wait.Output, new System.Text.RegularExpressions.Regex(@"(?m)^n2 is drained after \d+(\.\d)?s: no bucket owned, incoming or draining; safe to stop for maintenance$"));

        // Every node's installed view gives n2 nothing; n2 itself says drained once its own drains ended.
        await WaitForSharesAsync(processes, new() { ["n1"] = 100, ["n2"] = 0, ["n3"] = 100 }, "n2 drained");
        using (var admin = processes[1].CreateAdminClient())
        {
            var own = await Poll.UntilAsync(() => admin.GetStatusAsync(ct), s => Row(s, "n2").DrainState == DrainState.Drained, "n2 says it is drained", Poll.DefaultTimeout, ct);
            Assert.IsTrue(own.Leaving);
            Assert.AreEqual((0, 0), (Row(own, "n2").Buckets.Single().Incoming, Row(own, "n2").Buckets.Single().Draining));
        }

        var json = await TestCli.RunAsync(["status", "--json", "--socket", processes[1].AdminSocket], cancellationToken: ct).WithTimeout();
        using (var doc = JsonDocument.Parse(json.Output))
        {
            var n2 = doc.RootElement.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "n2");
            Assert.AreEqual(("drained", true, 0), (n2.GetProperty("drain_state").GetString(), n2.GetProperty("leaving").GetBoolean(), n2.GetProperty("modules")[0].GetProperty("buckets").GetInt32()));
        }

        var table = await TestCli.RunAsync(["status", "--socket", n1], cancellationToken: ct).WithTimeout();
        StringAssert.Matches(table.Output, new System.Text.RegularExpressions.Regex(@"(?m)^n2\s+up, drained\s+\d+\s+yes\s+100\s+ready 0\.00% 0/1024"));

        var again = await TestCli.RunAsync(["drain", "n2", "--socket", n1], cancellationToken: ct).WithTimeout();
        Assert.AreEqual((CliApp.ExitOk, "n2 is already drained, nothing changed (now drained)\n"), (again.ExitCode, again.Output));
    }

    private async Task Resume_ThroughAnotherNode_ShareComesBackAsync(IReadOnlyList<FarmdProcess> processes)
    {
        var ct = TestContext.CancellationToken;
        var resume = await TestCli.RunAsync(["resume", "n2", "--socket", processes[2].AdminSocket], cancellationToken: ct).WithTimeout();
        Assert.AreEqual((CliApp.ExitOk, "n2 resumed: it takes its share of the buckets again\n"), (resume.ExitCode, resume.Output));
        await WaitForSharesAsync(processes, new() { ["n1"] = 100, ["n2"] = 100, ["n3"] = 100 }, "n2 resumed");
        using (var admin = processes[0].CreateAdminClient())
        {
            var status = await Poll.UntilAsync(() => admin.GetStatusAsync(ct), s => Row(s, "n2").DrainState == DrainState.None, "n1 no longer sees n2 leaving", Poll.DefaultTimeout, ct);
            Assert.IsFalse(Row(status, "n2").Leaving);
        }

        var again = await TestCli.RunAsync(["resume", "n2", "--json", "--socket", processes[1].AdminSocket], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, again.ExitCode, again.Error);
        using var doc = JsonDocument.Parse(again.Output);
        Assert.AreEqual((false, "none"), (doc.RootElement.GetProperty("changed").GetBoolean(), doc.RootElement.GetProperty("state").GetString()));
    }

    private async Task<string> Apply_DoubledWeight_RewritesEveryFileAndDoublesTheShareAsync(
        IReadOnlyList<FarmdProcess> processes, string dir, ClusterConfig cluster, Dictionary<string, string> files)
    {
        var ct = TestContext.CancellationToken;
        string file = Path.Combine(dir, "new-cluster.yaml");
        string text = FarmConfigFiles.RenderCluster(WithWeight(cluster, "n2", 200) with { Version = 1 });
        await File.WriteAllTextAsync(file, text, ct);

        var apply = await TestCli.RunAsync(["config", "apply", file, "--json", "--socket", processes[0].AdminSocket], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, apply.ExitCode, apply.Output + apply.Error);
        using (var doc = JsonDocument.Parse(apply.Output))
        {
            var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
            CollectionAssert.AreEqual(Names, results.Select(r => r.GetProperty("node").GetString()).ToArray());
            foreach (var r in results)
            {
                string node = r.GetProperty("node").GetString()!;
                Assert.AreEqual(("applied", 1, 100, node == "n2" ? 200 : 100, Path.GetFullPath(files[node]), 0),
                    (r.GetProperty("outcome").GetString(), r.GetProperty("version").GetInt32(), r.GetProperty("previous_weight").GetInt32(),
                     r.GetProperty("weight").GetInt32(), r.GetProperty("path").GetString(), r.GetProperty("errors").GetArrayLength()), apply.Output);
            }
        }

        // Each node rewrote its own file, keeping its permissions.
        foreach (var (node, path) in files)
        {
            Assert.AreEqual(text, await File.ReadAllTextAsync(path, ct), $"{node}'s cluster file");
            Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path), $"{node}'s file mode");
            Assert.IsEmpty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"), $"no temporary file left beside {node}'s");
        }

        // n2 now has twice the share of each other node, on every node's view; nothing else changed.
        var reports = await WaitForSharesAsync(processes, new() { ["n1"] = 100, ["n2"] = 200, ["n3"] = 100 }, "n2 at weight 200");
        foreach (var report in reports)
        {
            Assert.AreEqual((1L, 200, 512), (report.ConfigVersion, Row(report, "n2").Weight, Row(report, "n2").Buckets.Single().Buckets), report.Node);
        }

        // The same file again: nothing to do anywhere.
        var same = await TestCli.RunAsync(["config", "apply", file, "--socket", processes[1].AdminSocket], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, same.ExitCode, same.Output + same.Error);
        foreach (string node in Names)
        {
            StringAssert.Matches(same.Output, new System.Text.RegularExpressions.Regex($@"(?m)^{node}\s+unchanged\s+1\s+{(node == "n2" ? 200 : 100)}\s+/"));
        }

        // Over TCP (sealed, the text encrypted with the key from --cluster) the node asked applies it to itself only.
        var remote = await TestCli.RunAsync(["config", "apply", file, "--json", "--host", "127.0.0.2", "--cluster", files["n2"]], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, remote.ExitCode, remote.Output + remote.Error);
        using (var doc = JsonDocument.Parse(remote.Output))
        {
            var result = doc.RootElement.GetProperty("results").EnumerateArray().Single();
            Assert.AreEqual(("n2", "unchanged"), (result.GetProperty("node").GetString(), result.GetProperty("outcome").GetString()));
        }

        return text;
    }

    private async Task Apply_OtherKeyOrOldVersion_RefusedAndNothingWrittenAsync(
        IReadOnlyList<FarmdProcess> processes, string dir, ClusterConfig cluster, Dictionary<string, string> files, string running)
    {
        var ct = TestContext.CancellationToken;
        string other = Path.Combine(dir, "other-key.yaml");
        var heartbeat = cluster.Heartbeat with { Interval = TimeSpan.FromMilliseconds(150), Lease = TimeSpan.FromMilliseconds(500) };
        await File.WriteAllTextAsync(other, FarmConfigFiles.RenderCluster(WithWeight(cluster, "n2", 200) with { Version = 2, Heartbeat = heartbeat }), ct);
        var refused = await TestCli.RunAsync(["config", "apply", other, "--socket", processes[0].AdminSocket], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitFailed, refused.ExitCode, refused.Output + refused.Error);
        foreach (string node in Names)
        {
            StringAssert.Matches(refused.Output, new System.Text.RegularExpressions.Regex($@"(?m)^{node}\s+refused\s+1\s"));
        }

        StringAssert.Contains(refused.Output,
            "n1, n2, n3: refused:\n  heartbeat.interval, heartbeat.lease differ from the running cluster file and need a restart of farmd "
            + "(copy the file to every node, then restart each); only node weights and `version` change live\n");

        string old = Path.Combine(dir, "old-version.yaml");
        await File.WriteAllTextAsync(old, FarmConfigFiles.RenderCluster(WithWeight(cluster, "n2", 300) with { Version = 1 }), ct);
        var stale = await TestCli.RunAsync(["config", "apply", old, "--json", "--socket", processes[2].AdminSocket], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitFailed, stale.ExitCode, stale.Output + stale.Error);
        using (var doc = JsonDocument.Parse(stale.Output))
        {
            foreach (var r in doc.RootElement.GetProperty("results").EnumerateArray())
            {
                Assert.AreEqual(("refused", "config version 1 is not newer than the running version 1: raise `version`"),
                    (r.GetProperty("outcome").GetString(), r.GetProperty("errors").EnumerateArray().Single().GetString()), stale.Output);
            }
        }

        // An invalid file: every node reports the located errors, once in the output.
        string invalid = Path.Combine(dir, "invalid.yaml");
        await File.WriteAllTextAsync(invalid, running.Replace("  version: 1", "  version: -1", StringComparison.Ordinal), ct);
        var broken = await TestCli.RunAsync(["config", "apply", invalid, "--socket", processes[0].AdminSocket], cancellationToken: ct).WithTimeout();
        Assert.AreEqual(CliApp.ExitFailed, broken.ExitCode);
        StringAssert.Contains(broken.Output, $"n1, n2, n3: refused:\n  {invalid}:4:12: error: 'version' in cluster is -1, out of range (hint: use a value from 0 to 2147483647)\n");

        foreach (var (node, path) in files)
        {
            Assert.AreEqual(running, await File.ReadAllTextAsync(path, ct), $"{node}'s cluster file is untouched");
        }

        using var admin = processes[0].CreateAdminClient();
        var status = await admin.GetStatusAsync(ct);
        Assert.AreEqual((1L, 200), (status.ConfigVersion, Row(status, "n2").Weight));
    }

    private async Task Sighup_EditedFile_AppliedOnThatNodeAndABadEditRefusedAsync(IReadOnlyList<FarmdProcess> processes, ClusterConfig cluster, Dictionary<string, string> files)
    {
        var ct = TestContext.CancellationToken;

        // Only n3's file changes, and only its own weight matters to it: the version may stay (a reload needs it not lower).
        var n3 = processes[2];
        var edited = WithWeight(WithWeight(cluster, "n2", 200), "n3", 300) with { Version = 1 };
        await File.WriteAllTextAsync(files["n3"], FarmConfigFiles.RenderCluster(edited), ct);
        Assert.IsFalse(
            Farm.Daemon.Reload.ReloadSignal.IsIgnored(await File.ReadAllTextAsync("/proc/self/status", ct), Farm.Daemon.Reload.ReloadSignal.SigHup),
            "this test run was started with SIGHUP ignored (nohup?): farmd inherits that and cannot reload on SIGHUP; run the tests without nohup");
        await n3.ReloadAsync(ct);
        await WaitForSharesAsync(processes, new() { ["n1"] = 100, ["n2"] = 200, ["n3"] = 300 }, "n3 at weight 300 after SIGHUP");
        StringAssert.Contains(n3.Output, "Cluster file applied (SIGHUP): version 1 -> 1, this node's weight 100 -> 300");

        // A bad edit is refused and logged; n3 keeps running its file.
        await File.WriteAllTextAsync(files["n3"], FarmConfigFiles.RenderCluster(edited with { GrpcPort = cluster.GrpcPort + 2, ConsolePort = cluster.GrpcPort + 3 }), ct);
        await n3.ReloadAsync(ct);
        await Poll.UntilAsync(() => Task.FromResult(n3.Output), o => o.Contains("on SIGHUP refused, still running version 1", StringComparison.Ordinal), "n3 logs the refusal", Poll.DefaultTimeout, CancellationToken.None);
        StringAssert.Contains(n3.Output, "grpc_port, console_port differ from the running cluster file and need a restart of farmd");
        Assert.IsFalse(n3.HasExited, "SIGHUP does not end farmd");
        using var admin = n3.CreateAdminClient();
        var status = await admin.GetStatusAsync(ct);
        Assert.AreEqual((1L, 300, 3), (status.ConfigVersion, Row(status, "n3").Weight, status.Nodes.Count(n => n.InView)));
    }

    /// <summary>Waits until every node's installed view splits the buckets by <paramref name="weights"/> (each within one bucket of its quota); returns the reports.</summary>
    private async Task<List<NodeStatusReport>> WaitForSharesAsync(IReadOnlyList<FarmdProcess> processes, Dictionary<string, int> weights, string what)
    {
        int total = weights.Values.Sum();
        bool Fits(NodeStatusReport s) =>
            s.Nodes.All(n => n.State == NodeState.Up) &&
            s.Nodes.Sum(n => n.Buckets.Single().Buckets) == Buckets &&
            weights.All(w => Math.Abs(Row(s, w.Key).Buckets.Single().Buckets - ((double)Buckets * w.Value / total)) < 1);
        var reports = new List<NodeStatusReport>();
        foreach (var p in processes)
        {
            using var admin = p.CreateAdminClient();
            reports.Add(await Poll.UntilAsync(() => admin.GetStatusAsync(TestContext.CancellationToken), Fits, $"{p.Node} shows {what}", Poll.DefaultTimeout, TestContext.CancellationToken));
        }

        return reports;
    }

    private static NodeStatus Row(NodeStatusReport report, string node) => report.Nodes.Single(n => n.Name == node);

    private static string FileOf(string dir, string node) => Path.Combine(dir, node, "cluster.yaml");

    private static ClusterConfig WithWeight(ClusterConfig cluster, string node, int weight) =>
        cluster with { Nodes = [.. cluster.Nodes.Select(n => n.Name == node ? n with { Weight = weight } : n)] };
}
