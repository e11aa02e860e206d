namespace Farm.EndToEnd.Tests.Modules;

/// <summary>
/// farmd running real modules (the shipped demo-web application) in network namespaces: checker actions restart,
/// stop (maxloop escalation) and wait move the node in and out of the module's view by themselves, an active/passive
/// module fails over with start_prim completing before the first accepted packet, and a hung stop script is forced
/// and killed within its limits. One farm serves the whole class; each test starts from a healthy farm.
/// </summary>
[TestClass]
public sealed class ModuleFarmTests() : SharedFarmTests<ModuleFarmTests>(Shared)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly ClassFarm<FarmFixture> Shared = new("module farm", f => f.Outputs());

    private static FarmFixture Farm => Shared.Value;

    [TestInitialize]
    public async Task InitializeAsync()
    {
        await Requirements.NamespacesAsync(needNft: true);
        await Requirements.ToolsAsync("python3");
        await Shared.InitializeAsync(
            TestContext,
            ModuleScenario.StartAsync,
            "Topology, 3 farmd and 6 modules up and healthy",
            (farm, ct) => farm.EnsureHealthyAsync(ct),
            "Farm healthy again");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task Farmd_Started_RunsAtRaisedPriorityAndItsApplicationAtTheOriginalOne()
    {
        const int node = 0;
        await Farm.WaitModuleAsync(node, ModuleScenario.Web, m => m.State == ModuleRunState.Up, Long, "running", Ct);
        int app = int.Parse((await File.ReadAllTextAsync(Path.Combine(Farm.RunDirectory(node, ModuleScenario.Web), "server.pid"), Ct)).Trim(), CultureInfo.InvariantCulture);
        int runner = NiceOf(Environment.ProcessId);

        // Every thread of farmd (a new thread inherits its creator's value), and none of the application's.
        var farmdThreads = Directory.GetDirectories($"/proc/{Farm.Daemon(node).Id}/task").Select(t => NiceOf(Farm.Daemon(node).Id, Path.GetFileName(t))).ToList();
        CollectionAssert.AreEqual(Enumerable.Repeat(-10, farmdThreads.Count).ToList(), farmdThreads, "farmd's threads run at nice -10");
        Assert.AreEqual(runner, NiceOf(app), "the application farmd's start script started runs at the priority farmd was started with");
    }

    /// <summary>The nice value of a process (its main thread) or one of its threads, from /proc (field 19 of stat).</summary>
    private static int NiceOf(int pid, string? tid = null)
    {
        string stat = File.ReadAllText(tid is null ? $"/proc/{pid}/stat" : $"/proc/{pid}/task/{tid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], CultureInfo.InvariantCulture); // fields from the state (3rd): nice is the 19th
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task AppKilled_ProcessCheckerRestartsIt_NodeStaysInTheFarm()
    {
        const int node = 1;
        var before = await Farm.ModuleAsync(node, ModuleScenario.Web, Ct);
        var watch = Stopwatch.StartNew();
        int? pid = Farm.KillApplication(node, ModuleScenario.Web);
        Assert.IsNotNull(pid, "the web application ran on node1");

        var restarted = await Farm.WaitModuleAsync(
            node, ModuleScenario.Web, m => m.State == ModuleRunState.Up && m.SubState == ModuleSubState.Ready && m.RecoveryCount > before.RecoveryCount, Long, "restarted", Ct);
        TestContext.WriteLine($"kill -9 of the app -> UP/Ready again after {watch.ElapsedMilliseconds} ms: {restarted.Reason}");

        StringAssert.StartsWith(restarted.Reason, "restarted after checker");
        Assert.AreEqual(before.RecoveryCount + 1, restarted.RecoveryCount);
        string newPid = await File.ReadAllTextAsync(Path.Combine(Farm.RunDirectory(node, ModuleScenario.Web), "server.pid"), Ct);
        Assert.AreNotEqual(pid.Value.ToString(CultureInfo.InvariantCulture), newPid.Trim(), "a new application process runs");

        // The node is back in the web view, and the logs tell the story: the checker's verdict, restart, reason.
        await Farm.WaitHealthyAsync(Long, Ct);
        var logs = await Farm.LogsAsync(node, ModuleScenario.Web, Ct);
        string text = string.Join("\n", logs);
        StringAssert.Contains(text, "checker app is down: 0 process(es) matching");
        // From UP/Ready, or from WAIT when the tcp checker (action wait) saw the dead port first.
        StringAssert.Matches(text, new System.Text.RegularExpressions.Regex(@"running stop_both \((UP|WAIT) -> UP, action restart\)"));
        StringAssert.Matches(text, new System.Text.RegularExpressions.Regex(@"running start_both \((UP|WAIT) -> UP, action restart\)"));
        StringAssert.Contains(text, "Module web is UP/Ready: restarted after checker");
        Assert.IsFalse(logs.Any(l => l.Contains("is STOP/", StringComparison.Ordinal) && l.Contains("checker", StringComparison.Ordinal)), "the module never stopped:\n" + text);

        // The module's own log file (--log-dir) has the same lines.
        string file = Directory.GetFiles(Path.Combine(Farm.Root, "node1", "log", "modules"), "web-*.log").Single();
        StringAssert.Contains(await File.ReadAllTextAsync(file, Ct), "Module web is UP/Ready: restarted after checker");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task CustomCheckerFailsFourTimes_ModuleStops_BucketsMoveToTheOthers()
    {
        const int node = 2;
        var reset = await Farm.ControlAsync(node, ModuleScenario.Web, ModuleAction.Restart, TimeSpan.FromSeconds(30), Ct); // recovery count 0
        Assert.AreEqual(0, reset.Module.RecoveryCount, reset.ToString());
        await Farm.WaitHealthyAsync(Long, Ct);

        var watch = Stopwatch.StartNew();
        await File.WriteAllTextAsync(Path.Combine(Farm.RunDirectory(node, ModuleScenario.Web), "fail-check"), "", Ct);
        var stopped = await Farm.WaitModuleAsync(node, ModuleScenario.Web, m => m.State == ModuleRunState.Stop && m.SubState == ModuleSubState.NotReady, TimeSpan.FromSeconds(60), "STOP/NotReady", Ct);
        TestContext.WriteLine($"flag set -> STOP/NotReady after {watch.ElapsedMilliseconds} ms: {stopped.Reason}");

        // Status says why.
        StringAssert.Contains(stopped.Reason, "checker flag");
        StringAssert.Contains(stopped.Reason, "more than 3 recoveries within 10m (maxloop), stopped");
        Assert.IsFalse(stopped.TrafficOpen);
        var flag = stopped.Checkers.Single(c => c.Name == "flag");
        Assert.AreEqual("custom", flag.Type);

        // Its buckets moved to the two others (kernels), and clients are served by them.
        var owners = await Farm.WaitHealthyAsync(Long, Ct, webMembers: [0, 1]);
        Assert.IsFalse(owners.Contains("node2"));
        var answers = await HttpProbe.AskAsync(Farm.Client.Namespace, [.. Farm.Client.Addresses4.Take(20)], ModuleScenario.WebVip, ModuleScenario.WebPort, AskTimeout);
        CollectionAssert.AllItemsAreNotNull(answers, "every client is served");
        Assert.IsTrue(answers.All(a => a is "node0" or "node1"), string.Join(", ", answers));

        // An admin start forgives: the module serves again once the checker passes.
        File.Delete(Path.Combine(Farm.RunDirectory(node, ModuleScenario.Web), "fail-check"));
        var started = await Farm.ControlAsync(node, ModuleScenario.Web, ModuleAction.Start, TimeSpan.FromSeconds(30), Ct);
        Assert.AreEqual(ModuleRunState.Up, started.Module.State, started.ToString());
        Assert.AreEqual(0, started.Module.RecoveryCount);
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task WaitChecker_PortBlocked_NodeLeavesAndRejoinsByItself()
    {
        const int node = 0;
        var ns = Farm.Topology.Nodes[node].Namespace;
        int recoveries = (await Farm.ModuleAsync(node, ModuleScenario.Web, Ct)).RecoveryCount;
        var watch = Stopwatch.StartNew();
        await ns.NftAsync(["-f", "-"], $"""
            table inet farmtest_block {"{"}
              chain input {"{"} type filter hook input priority 0; policy accept; ip daddr 127.0.0.1 tcp dport {ModuleScenario.WebPort} drop; {"}"}
            {"}"}
            """, Ct);
        try
        {
            var waiting = await Farm.WaitModuleAsync(node, ModuleScenario.Web, m => m.State == ModuleRunState.Wait && m.SubState == ModuleSubState.NotReady, Long, "WAIT/NotReady", Ct);
            TestContext.WriteLine($"port blocked -> WAIT/NotReady after {watch.ElapsedMilliseconds} ms: {waiting.Reason}");
            StringAssert.StartsWith(waiting.Reason, "checker port down");

            var owners = await Farm.WaitHealthyAsync(Long, Ct, webMembers: [1, 2]);
            TestContext.WriteLine($"port blocked -> node0 holds no web bucket after {watch.ElapsedMilliseconds} ms");
            Assert.IsFalse(owners.Contains("node0"));
            var answers = await HttpProbe.AskAsync(Farm.Client.Namespace, [.. Farm.Client.Addresses4.Take(20)], ModuleScenario.WebVip, ModuleScenario.WebPort, AskTimeout);
            Assert.IsTrue(answers.All(a => a is "node1" or "node2"), string.Join(", ", answers));
        }
        finally
        {
            watch.Restart();
            await ns.NftAsync(["delete", "table", "inet", "farmtest_block"], cancellationToken: CancellationToken.None);
        }

        var back = await Farm.WaitModuleAsync(node, ModuleScenario.Web, m => m.State == ModuleRunState.Up && m.SubState == ModuleSubState.Ready, Long, "UP/Ready", Ct);
        await Farm.WaitHealthyAsync(Long, Ct);
        TestContext.WriteLine($"port unblocked -> UP/Ready and serving its share again after {watch.ElapsedMilliseconds} ms: {back.Reason}");
        Assert.AreEqual("checker port up again", back.Reason);
        Assert.AreEqual(recoveries, back.RecoveryCount, "wait is not a recovery");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task ActivePassive_ActiveKilled_NextPriorityRunsStartPrimBeforeServing_OldActiveReturnsAsStandby()
    {
        int active = -1;
        for (int i = 0; i < ModuleScenario.NodeCount; i++)
        {
            if ((await Farm.ModuleAsync(i, ModuleScenario.Db, Ct)).Primary)
            {
                active = i;
            }
        }

        Assert.AreNotEqual(-1, active);
        int next = Enumerable.Range(0, ModuleScenario.NodeCount).Where(i => i != active).OrderByDescending(ModuleScenario.PriorityOf).First();
        string nextName = ModuleScenario.NodeName(next);
        var sources = Farm.Client.Addresses4.Take(20).ToArray();
        var before = await HttpProbe.AskAsync(Farm.Client.Namespace, sources, ModuleScenario.DbVip, ModuleScenario.DbPort, AskTimeout);
        Assert.IsTrue(before.All(a => a == ModuleScenario.NodeName(active)), string.Join(", ", before));

        // Clients keep knocking (a new connection every 20 ms) while the active node dies.
        using var stopClients = new CancellationTokenSource();
        var attempts = new List<(long UnixMs, string? Answer)>();
        var clients = Task.Run(async () =>
        {
            for (int k = 0; !stopClients.IsCancellationRequested; k++)
            {
                long sent = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
                _ = Task.Run(async () =>
                {
                    string? answer = await HttpProbe.AskOneAsync(Farm.Client.Namespace, sources[k % sources.Length], ModuleScenario.DbVip, ModuleScenario.DbPort, TimeSpan.FromMilliseconds(400));
                    lock (attempts)
                    {
                        attempts.Add((sent, answer));
                    }
                });
                await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, CancellationToken.None);
            }
        });

        long killedAt = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        Farm.Daemon(active).Kill();
        var primary = await Farm.WaitModuleAsync(next, ModuleScenario.Db, m => m.Primary, Long, "primary", Ct);
        await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, Ct);
        await stopClients.CancelAsync();
        await clients;
        await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, Ct);
        TestContext.WriteLine($"{nextName}: {primary.Reason}");

        // start_prim ended before the new primary's first packet from a client (the app logs every request in ms).
        string run = Farm.RunDirectory(next, ModuleScenario.Db);
        var events = await File.ReadAllLinesAsync(Path.Combine(run, "events.log"), Ct);
        long primBegin = events.Where(e => e.Contains("start_prim begin", StringComparison.Ordinal)).Select(Stamp).Last();
        long primEnd = events.Where(e => e.Contains("start_prim end", StringComparison.Ordinal)).Select(Stamp).Last();
        var served = (await File.ReadAllLinesAsync(Path.Combine(run, "server.log"), Ct))
            .Where(l => l.Contains(" GET /node ", StringComparison.Ordinal) && !l.Contains(" 127.0.0.1 ", StringComparison.Ordinal))
            .Select(Stamp).Where(t => t >= killedAt).ToList();
        Assert.IsNotEmpty(served, "the new primary served clients");
        long firstServed = served.Min();
        List<(long UnixMs, string? Answer)> tries;
        lock (attempts)
        {
            tries = [.. attempts];
        }

        int refusedDuringPrim = tries.Count(a => a.UnixMs >= primBegin && a.UnixMs + 400 <= primEnd && a.Answer is null);
        long firstAnswer = tries.Where(a => a.Answer == nextName).Select(a => a.UnixMs).DefaultIfEmpty(-1).Min();
        TestContext.WriteLine(
            $"kill -> start_prim begin +{primBegin - killedAt} ms, end +{primEnd - killedAt} ms, first client served +{firstServed - killedAt} ms " +
            $"(first answered attempt sent +{firstAnswer - killedAt} ms); {tries.Count} attempts, {refusedDuringPrim} unanswered while start_prim ran");
        Assert.IsTrue(firstServed >= primEnd, $"first client served at {firstServed}, start_prim ended at {primEnd}");
        Assert.IsTrue(primEnd - primBegin >= ModuleScenario.PromoteTime.TotalMilliseconds - 50, "start_prim took its promotion time");
        Assert.IsGreaterThan(0, refusedDuringPrim, "clients knocked while start_prim ran and were not served");
        Assert.IsFalse(tries.Any(a => a.Answer is { } x && x != nextName && a.UnixMs > killedAt + 1000), "nobody else answered after the lease");

        var after = await HttpProbe.AskAsync(Farm.Client.Namespace, sources, ModuleScenario.DbVip, ModuleScenario.DbPort, AskTimeout);
        Assert.IsTrue(after.All(a => a == nextName), string.Join(", ", after));

        // failback: false: the old active comes back as a standby and the traffic stays.
        var watch = Stopwatch.StartNew();
        await Farm.ForgetAsync(active);
        Farm.StartDaemon(active);
        await Farm.Daemon(active).WaitForReadyAsync(Long, Ct);
        var standby = await Farm.WaitModuleAsync(active, ModuleScenario.Db, m => m.State == ModuleRunState.Up && m.SubState == ModuleSubState.Ready, Long, "UP/Ready", Ct);
        await Farm.WaitHealthyAsync(Long, Ct);
        TestContext.WriteLine($"old active restarted -> standby UP/Ready after {watch.ElapsedMilliseconds} ms");
        Assert.IsFalse(standby.Primary);
        Assert.IsTrue((await Farm.ModuleAsync(next, ModuleScenario.Db, Ct)).Primary);
        var still = await HttpProbe.AskAsync(Farm.Client.Namespace, sources, ModuleScenario.DbVip, ModuleScenario.DbPort, AskTimeout);
        Assert.IsTrue(still.All(a => a == nextName), string.Join(", ", still));
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task HungStopBoth_ForcedThenKilled_ModuleStillStops()
    {
        const int node = 1;
        await File.WriteAllTextAsync(Path.Combine(Farm.RunDirectory(node, ModuleScenario.Web), "hang-stop"), "", Ct);
        var watch = Stopwatch.StartNew();
        var result = await Farm.ControlAsync(node, ModuleScenario.Web, ModuleAction.Stop, TimeSpan.FromSeconds(30), Ct);
        long elapsed = watch.ElapsedMilliseconds;
        TestContext.WriteLine($"stop with a hung stop_both -> {result.Module.State}/{result.Module.SubState} after {elapsed} ms: {result.Module.Reason}");

        Assert.IsTrue(result.Settled, result.ToString());
        Assert.AreEqual(ModuleRunState.Stop, result.Module.State);
        Assert.AreEqual(ModuleSubState.NotReady, result.Module.SubState, "a forced run that overran is a failure");
        StringAssert.Contains(result.Module.Reason, "stop_both failed");

        // stop (2s) + stop_force (1s) for stop_both, plus closing the traffic and poststop: well under 6 s.
        Assert.IsLessThan(6000L, elapsed);
        var logs = string.Join("\n", await Farm.LogsAsync(node, ModuleScenario.Web, Ct));
        StringAssert.Contains(logs, "web/stop_both overran its");
        StringAssert.Contains(logs, "running it again with 'force'");
        StringAssert.Contains(logs, "hanging (test flag");
        StringAssert.Contains(logs, "running poststop");
        Assert.IsFalse(
            Directory.EnumerateDirectories("/proc").Any(d => ReadCmdline(d).StartsWith("farmtest-hang-node1", StringComparison.Ordinal)),
            "no process of the hung script is left");

        // The application still runs (stop_both never got to it): a start finds it and serves again.
        File.Delete(Path.Combine(Farm.RunDirectory(node, ModuleScenario.Web), "hang-stop"));
        var started = await Farm.ControlAsync(node, ModuleScenario.Web, ModuleAction.Start, TimeSpan.FromSeconds(30), Ct);
        Assert.AreEqual(ModuleRunState.Up, started.Module.State, started.ToString());
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task AdminStop_ModuleStopped_ItsTablesAndVipLeaveTheNodeAndStartBringsThemBack()
    {
        const int node = 2;
        var ns = Farm.Topology.Nodes[node].Namespace;
        async Task<(bool Table, bool Vip, bool OtherTable)> LeftAsync()
        {
            string tables = (await ns.NftAsync(["list", "tables"], cancellationToken: Ct)).StandardOutput;
            string addresses = (await ns.IpAsync(["-o", "address", "show"], Ct)).StandardOutput;
            return (tables.Contains("farm_web", StringComparison.Ordinal), addresses.Contains(ModuleScenario.WebVip + "/", StringComparison.Ordinal),
                tables.Contains("farm_db", StringComparison.Ordinal));
        }

        Assert.AreEqual((true, true, true), await LeftAsync(), "the running module's tables and VIP are there");
        var stopped = await Farm.ControlAsync(node, ModuleScenario.Web, ModuleAction.Stop, TimeSpan.FromSeconds(30), Ct);
        Assert.AreEqual(ModuleRunState.Stop, stopped.Module.State, stopped.ToString());

        // Removed once the module is stopped (its buckets went to the peers first); the other module keeps its own.
        var after = await Poll.UntilAsync(LeftAsync, l => !l.Table && !l.Vip, "web's tables and VIP removed from node2", TimeSpan.FromSeconds(5), Ct);
        Assert.IsTrue(after.OtherTable, "db's data plane is untouched");

        var started = await Farm.ControlAsync(node, ModuleScenario.Web, ModuleAction.Start, TimeSpan.FromSeconds(30), Ct);
        Assert.AreEqual(ModuleRunState.Up, started.Module.State, started.ToString());
        Assert.AreEqual((true, true, true), await LeftAsync(), "start recreated them");
        await Farm.WaitHealthyAsync(Long, Ct);
    }

    private static long Stamp(string line) => long.Parse(line.AsSpan(0, line.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);

    private static string ReadCmdline(string procDir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procDir, "cmdline")).Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
