using Farm.Cli;
using Farm.Testing.Nftables;

namespace Farm.EndToEnd.Tests.Rebalance;

/// <summary>
/// Zero-disruption rebalancing with real farmd processes, the real kernel and long-lived sessions: 600 sessions from
/// 200 client addresses exchange a message every 50 ms while a fourth node joins, one node is drained, one node's
/// weight doubles and the drained node resumes. No session may be reset, stall longer than 1 s, change node or be
/// answered by two nodes; after each change every new connection lands on the node that the kernels' new table
/// names. Also: a drain ends as soon as its last connection closes (within a few heartbeat intervals), or at the drain
/// timeout; a new owner that dies mid-handover leaves the draining node serving its sessions; and a module's seed
/// edited by hand and reloaded (<c>farmctl module reload</c>) on every node breaks none of them.
/// </summary>
[TestClass]
public sealed class RebalanceTests(TestContext testContext)
{
    private static readonly TimeSpan LongDrain = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private FarmFixture? farm;

    [TestInitialize]
    public async Task InitializeAsync() => await Requirements.NamespacesAsync(needNft: true);

    [TestCleanup]
    public Task CleanupAsync() => TestFarm.EndAsync(farm, testContext);

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    [DataRow(SessionProtocol.Tcp, RebalanceScenario.TcpPort, DisplayName = "TCP client_ip")]
    [DataRow(SessionProtocol.Tcp, RebalanceScenario.TcpPortPort, DisplayName = "TCP client_ip_port")]
    [DataRow(SessionProtocol.Udp, RebalanceScenario.UdpPort, DisplayName = "UDP client_ip")]
    public async Task JoinDrainWeightResume_600LongLivedSessions_NoneResetStalledOrMovedAndNewFlowsLandAsPredicted(SessionProtocol protocol, int port)
    {
        var ct = testContext.CancellationToken;
        farm = await RebalanceScenario.StartAsync(running: 3, LongDrain, ct);

        // Every node's app and every client run in this process, at nice 0, and each farmd runs at nice -10: a joining
        // farmd's start-up (its JIT on both cores) then starves all of them at once, and every session of every node
        // stalls ~1.1 s (seen in a CI dry run, no lease lapsed). On real nodes a farmd's start competes only with its own
        // node's app; here the harness runs at farmd's priority for the test, so it measures the farm, not the scheduler.
        using var harness = HarnessPriority.AtFarmdPriority();
        await using var load = await SessionLoad.StartAsync(
            farm.Client.Namespace, farm.Sources(), [RebalanceScenario.Vip], port,
            new SessionLoadOptions { Protocol = protocol, SessionsPerSource = 3 }, cancellationToken: ct);
        await load.WaitUntilAsync(s => s.Open == 600 && s.MinRoundTrips >= 5, TimeSpan.FromSeconds(30), ct);
        int round = 0;
        bool diagnosed = false;

        async Task StepAsync(string what, Dictionary<int, int> weights)
        {
            var watch = Stopwatch.StartNew();
            var acceptors = await farm.WaitAcceptorsAsync(weights, Settle, ct);
            var snapshot = load.Snapshot();
            testContext.WriteLine($"{what}: new flows split as expected after {watch.ElapsedMilliseconds} ms; {snapshot}");
            if (snapshot.AnsweredByTwo > 0 && !diagnosed)
            {
                diagnosed = true;
                testContext.WriteLine(await DescribeAnsweredByTwoAsync(farm, snapshot, port, ct));
            }

            var wrong = await farm.MisroutedNewFlowsAsync(acceptors, port, 30000 + round++);
            Assert.IsEmpty(wrong, $"{what}: new flows not on the predicted node:\n{string.Join("\n", wrong.Take(20))}");
        }

        farm.StartDaemon(3);
        await StepAsync("node3 joined", new() { [0] = 1, [1] = 1, [2] = 1, [3] = 1 });

        var drained = await farm.DrainAsync(1, DrainAction.Drain, via: 0, ct);
        Assert.IsTrue(string.IsNullOrEmpty(drained.Error), drained.Error);
        await StepAsync("node1 drained", new() { [0] = 1, [1] = 0, [2] = 1, [3] = 1 });
        var (draining, _) = await farm.HandoverOfAsync(1, ct);
        Assert.IsGreaterThan(0, draining, "node1 keeps draining the buckets its open sessions use");

        var applied = await farm.SetWeightAsync(2, 200, via: 3, ct);
        Assert.IsTrue(applied.Results.All(r => r.Outcome is ConfigApplyOutcome.Applied or ConfigApplyOutcome.Unchanged), applied.ToString());
        await StepAsync("node2's weight doubled", new() { [0] = 1, [1] = 0, [2] = 2, [3] = 1 });

        var resumed = await farm.DrainAsync(1, DrainAction.Resume, via: 2, ct);
        Assert.IsTrue(string.IsNullOrEmpty(resumed.Error), resumed.Error);
        await StepAsync("node1 resumed", new() { [0] = 1, [1] = 1, [2] = 2, [3] = 1 });

        // A little longer under the final table, then the verdict over the whole run.
        await Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, ct);
        var final = await load.StopAsync(ct);
        testContext.WriteLine($"final: {final}\nlatency: {load.GetLatency()}");
        Assert.AreEqual(600, final.Total);
        Assert.AreEqual(0, final.Reset, final.ToString());
        Assert.AreEqual(0, final.Failed, final.ToString());
        Assert.AreEqual(0, final.Stalls, $"stalls longer than {final.StallThreshold.TotalMilliseconds} ms: {final}");
        Assert.AreEqual(0, final.NodeChanges, final.ToString());
        Assert.AreEqual(0, final.AnsweredByTwo, final.ToString());
        Assert.IsGreaterThan(0L, final.MinRoundTrips, "every session kept exchanging messages");
    }

    /// <summary>
    /// What each node's kernel holds for the first sessions answered by two (their bucket's set, the foreign flows, the
    /// conntrack entries of their client): the evidence for a failure that comes once in many runs.
    /// </summary>
    private static Task<string> DescribeAnsweredByTwoAsync(FarmFixture farm, SessionLoadSnapshot snapshot, int port, CancellationToken ct) =>
        DescribeSessionsAsync(farm, snapshot.Sessions.Where(s => s.AnsweredByTwo), "answered by two", port, ct);

    /// <summary>The same for the first three of <paramref name="sessions"/> (<paramref name="what"/> says why they are described).</summary>
    private static async Task<string> DescribeSessionsAsync(FarmFixture farm, IEnumerable<SessionSnapshot> sessions, string what, int port, CancellationToken ct)
    {
        var text = new StringBuilder($"kernel state for the sessions {what}:\n");
        foreach (var session in sessions.Take(3))
        {
            var client = session.LocalEndPoint ?? session.Source;
            int bucket = farm.BucketOf(client, port == RebalanceScenario.TcpPortPort ? Affinity.ClientIpPort : Affinity.ClientIp);
            text.AppendLine($"#{session.Index} {client} (bucket {bucket}) answered by {string.Join("+", session.Nodes)}:");
            for (int i = 0; i < farm.NodeCount; i++)
            {
                var ns = farm.Nodes[i].Namespace;
                var table = await FilterTableState.ReadAsync(ns, farm.Module.Name, ct);
                string state = table is null ? "no table"
                    : table.Owned.Contains(bucket) ? "owned" : table.Incoming.Contains(bucket) ? "incoming"
                    : table.Claimed.Contains(bucket) ? "claimed" : table.Draining.Contains(bucket) ? "draining" : "none";
                var foreign = await ns.NftAsync(["list", "set", "inet", KernelBucketSampler.FilterTableName(farm.Module.Name), "foreign4"], cancellationToken: ct);
                bool listed = foreign.StandardOutput.Contains($"{client.Address} . {client.Port}", StringComparison.Ordinal);
                string tracked;
                try
                {
                    tracked = (await ns.ExecAsync("conntrack", ["-L", "-s", client.Address.ToString()], cancellationToken: ct)).StandardOutput;
                }
                catch (CommandFailedException e)
                {
                    tracked = e.Message;
                }

                text.AppendLine($"  {FarmFixture.NodeName(i)}: bucket {state}, in foreign4: {listed}; conntrack:");
                foreach (var line in tracked.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    text.AppendLine("    " + line);
                }
            }
        }

        return text.ToString();
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public async Task Drain_LastSessionsCloseProgressively_DrainEndsSoonAfterTheLastClose()
    {
        var ct = testContext.CancellationToken;
        farm = await RebalanceScenario.StartAsync(running: 3, LongDrain, ct);
        await using var load = await OpenTcpSessionsAsync(farm, ct);
        Assert.IsTrue(string.IsNullOrEmpty((await farm.DrainAsync(1, DrainAction.Drain, via: 0, ct)).Error));
        await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 0, [2] = 1 }, Settle, ct);
        Assert.IsGreaterThan(0, (await farm.HandoverOfAsync(1, ct)).Draining);

        // Close node1's sessions in three batches; the drain must last until the last one and end right after it.
        var onNode1 = Enumerable.Range(0, load.Count).Where(i => load.NodeOf(i) == FarmFixture.NodeName(1)).ToList();
        Assert.IsGreaterThan(10, onNode1.Count);
        var batches = onNode1.Chunk((onNode1.Count + 2) / 3).ToList();
        TimeSpan lastClose = TimeSpan.Zero;
        for (int b = 0; b < batches.Count; b++)
        {
            var batch = batches[b].ToHashSet();
            var closes = await load.CloseAsync(s => batch.Contains(s.Index), ct);
            if (!closes.All(c => c.Clean))
            {
                // Failed once in a CI dry run (2026-12-05: three closes reset as node1's drains of other buckets ended).
                var unclean = closes.Where(c => !c.Clean).Select(c => c.Index).ToHashSet();
                testContext.WriteLine(await DescribeSessionsAsync(farm, load.Snapshot().Sessions.Where(x => unclean.Contains(x.Index)), "reset while closing", RebalanceScenario.TcpPort, ct));
            }

            Assert.IsTrue(closes.All(c => c.Clean), string.Join("\n", closes.Where(c => !c.Clean)));
            lastClose = closes.Max(c => c.ClosedAt);
            if (b < batches.Count - 1)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, ct);
                Assert.IsGreaterThan(0, (await farm.HandoverOfAsync(1, ct)).Draining, $"still draining after batch {b + 1} of {batches.Count}");
            }
        }

        // Poll node1's own state; the time runs from the last close (the load's clock) to the first status without drains.
        var ended = await WaitAsync(async () => (await farm.HandoverOfAsync(1, ct)).Draining == 0, Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(10), ct);
        var took = Stopwatch.GetElapsedTime(load.StartTimestamp, ended.By) - lastClose;
        testContext.WriteLine($"drain ended {took.TotalMilliseconds:F0} ms after the last close (heartbeat interval {farm.Interval.TotalMilliseconds} ms)");
        // The bound: the drain monitor's scan period (half an interval) and its scan, the membership's update, and the
        // apply that now also deletes the bucket's conntrack entries (a ctnetlink dump, tens of milliseconds with these
        // 600 sessions' entries) before this status call, which waits for the same lock, can answer. Measured 43-182 ms
        // (2026-12-04), so two intervals left no room for a busy CI machine; five still tell "ended at the close" from a
        // scan that waits for anything else (the drain timeout here is 3 minutes). The figure itself is a benchmark's.
        Assert.IsLessThanOrEqualTo(5 * farm.Interval, took, "the drain must end within five heartbeat intervals of the last close");
        await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 0, [2] = 1 }, Settle, ct);
        var incoming = await Task.WhenAll(new[] { 0, 2 }.Select(i => farm.HandoverOfAsync(i, ct)));
        Assert.IsTrue(incoming.All(h => h.Incoming == 0), "the new owners own the buckets whole");
        var final = await load.StopAsync(ct);
        Assert.AreEqual(0, final.Reset, final.ToString());
    }

    [TestMethod]
    [Timeout(180_000, CooperativeCancellation = true)]
    public async Task Drain_SessionsStayOpen_DrainEndsAtTheDrainTimeout()
    {
        var ct = testContext.CancellationToken;
        var drainTimeout = TimeSpan.FromSeconds(4);
        farm = await RebalanceScenario.StartAsync(running: 3, drainTimeout, ct);
        await using var load = await OpenTcpSessionsAsync(farm, ct);

        var asked = Stopwatch.GetTimestamp();
        Assert.IsTrue(string.IsNullOrEmpty((await farm.DrainAsync(1, DrainAction.Drain, via: 0, ct)).Error));
        var began = await WaitAsync(async () => (await farm.HandoverOfAsync(1, ct)).Draining > 0, asked, TimeSpan.FromSeconds(10), ct);
        var ended = await WaitAsync(async () => (await farm.HandoverOfAsync(1, ct)).Draining == 0, began.Sent, drainTimeout * 3, ct);

        // What the polls allow: the drain lasted at most from the last status without it to the first status after it,
        // and at least from the first status with it to the last status with it (CI dry run, 2026-12-06: one slow status
        // call made a drain of the full timeout read as 3,929 ms).
        var longest = Stopwatch.GetElapsedTime(began.After, ended.By);
        var shortest = Stopwatch.GetElapsedTime(began.By, ended.After);
        testContext.WriteLine($"drain began {Stopwatch.GetElapsedTime(asked, began.By).TotalMilliseconds:F0} ms after the request and lasted {shortest.TotalMilliseconds:F0}-{longest.TotalMilliseconds:F0} ms (timeout {drainTimeout.TotalMilliseconds} ms)");
        Assert.IsGreaterThanOrEqualTo(drainTimeout - farm.Interval, longest, "sessions stayed open: the drain runs to its timeout");
        Assert.IsLessThanOrEqualTo(drainTimeout + farm.Interval * 3, shortest, "and ends at it");
        await load.StopAsync(ct);
    }

    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public async Task NewOwnerKilledMidHandover_DrainerKeepsItsSessionsAndEveryClientIsServedAgain()
    {
        var ct = testContext.CancellationToken;
        farm = await RebalanceScenario.StartAsync(running: 4, LongDrain, ct);
        await using var tcp = await SessionLoad.StartAsync(
            farm.Client.Namespace, farm.Sources(), [RebalanceScenario.Vip], RebalanceScenario.TcpPort, new SessionLoadOptions { SessionsPerSource = 2 }, cancellationToken: ct);
        await using var udp = await SessionLoad.StartAsync(
            farm.Client.Namespace, farm.Sources(), [RebalanceScenario.Vip], RebalanceScenario.UdpPort, new SessionLoadOptions { Protocol = SessionProtocol.Udp }, cancellationToken: ct);
        await tcp.WaitUntilAsync(s => s.Open == 400 && s.MinRoundTrips >= 3, TimeSpan.FromSeconds(30), ct);
        await udp.WaitUntilAsync(s => s.Open == 200 && s.MinRoundTrips >= 3, TimeSpan.FromSeconds(30), ct);
        string node1 = FarmFixture.NodeName(1);
        string node3 = FarmFixture.NodeName(3);
        var tcpOnNode1 = Enumerable.Range(0, tcp.Count).Where(i => tcp.NodeOf(i) == node1).ToHashSet();
        var udpOnNode1 = Enumerable.Range(0, udp.Count).Where(i => udp.NodeOf(i) == node1).ToHashSet();

        // node1 drains: part of its buckets go to node3, which takes them over while node1 still serves their sessions.
        Assert.IsTrue(string.IsNullOrEmpty((await farm.DrainAsync(1, DrainAction.Drain, via: 0, ct)).Error));
        await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 0, [2] = 1, [3] = 1 }, Settle, ct);
        Assert.IsGreaterThan(0, (await farm.HandoverOfAsync(3, ct)).Incoming, "node3 is taking buckets over from node1");

        farm.Daemon(3).Kill();
        await farm.ForgetAsync(3, "killed");
        var acceptors = await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 0, [2] = 1 }, Settle, ct);
        await Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, ct);

        // Every client is served again, by the node the survivors' kernels name.
        Assert.IsEmpty(await farm.MisroutedNewFlowsAsync(acceptors, RebalanceScenario.TcpPort, 31000));
        Assert.IsEmpty(await farm.MisroutedNewFlowsAsync(acceptors, RebalanceScenario.UdpPort, 31001));

        var tcpFinal = await tcp.StopAsync(ct);
        var udpFinal = await udp.StopAsync(ct);
        testContext.WriteLine($"tcp: {tcpFinal}\nudp: {udpFinal}");
        var tcpNode1 = tcpFinal.Sessions.Where(s => tcpOnNode1.Contains(s.Index)).ToList();
        Assert.IsGreaterThan(0, tcpNode1.Count);
        Assert.IsTrue(tcpNode1.All(s => s.State == SessionState.Stopped && s.Stalls == 0 && !s.NodeChanged), "node1's sessions went on undisturbed");
        Assert.IsTrue(udpFinal.Sessions.Where(s => udpOnNode1.Contains(s.Index)).All(s => s.Stalls == 0 && !s.AnsweredByTwo), "node1's UDP flows too");

        // Sessions of the survivors: never reset, never answered by another node. Sessions of the killed node3: their
        // server is gone, so TCP ones are reset by the new owner and UDP ones are answered by exactly one survivor.
        var tcpSurvivors = tcpFinal.Sessions.Where(s => s.Nodes[0] != node3).ToList();
        var udpSurvivors = udpFinal.Sessions.Where(s => s.Nodes[0] != node3).ToList();
        Assert.IsTrue(tcpSurvivors.All(s => s.State == SessionState.Stopped && !s.NodeChanged), "a survivor's TCP session was reset or answered by two nodes");
        Assert.IsTrue(udpSurvivors.All(s => !s.AnsweredByTwo && s.Stalls == 0), "a survivor's UDP flow was answered by two nodes or stalled");
        var udpOfNode3 = udpFinal.Sessions.Where(s => s.Nodes[0] == node3).ToList();
        Assert.IsTrue(udpOfNode3.All(s => s.Nodes.Count == 2 && s.DuplicateAnswers == 0), "node3's UDP flows moved to exactly one survivor");
        Assert.AreEqual(0, tcpFinal.Sessions.Count(s => s.Nodes.Count > 1), "no TCP session was answered by two nodes");
    }

    /// <summary>
    /// Polls <paramref name="condition"/> (a status call) until it holds. The change it waits for happened after
    /// <paramref name="since"/> (a Stopwatch timestamp it cannot precede) and after the last call that saw it false was
    /// sent (<see cref="ChangeWindow.After"/>), and before the first call that saw it true returned
    /// (<see cref="ChangeWindow.By"/>): a status call on a busy machine takes tens of milliseconds, so its return time
    /// alone misplaces the change by as much.
    /// </summary>
    private static async Task<ChangeWindow> WaitAsync(Func<Task<bool>> condition, long since, TimeSpan timeout, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        long after = since;
        while (watch.Elapsed < timeout)
        {
            long sent = Stopwatch.GetTimestamp();
            if (await condition())
            {
                return new ChangeWindow(after, sent, Stopwatch.GetTimestamp());
            }

            after = sent;
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System, ct);
        }

        throw new TimeoutException($"condition not met within {timeout.TotalSeconds} s");
    }

    /// <summary>
    /// A change seen by polling happened after <see cref="After"/> and by <see cref="By"/>; the call that saw it was sent at
    /// <see cref="Sent"/> (Stopwatch timestamps).
    /// </summary>
    private readonly record struct ChangeWindow(long After, long Sent, long By);

    /// <summary>
    /// A table-shaping change made by hand: web's farm.yaml gets a new seed (every client's bucket changes) and
    /// <c>farmctl module reload web</c> rolls it node after node while 200 sessions run. Each node's sessions stay with
    /// it and are answered until the client closes them (which lets its drain end and its reload go on); none is reset,
    /// stalls, changes node or is answered by two; afterwards every kernel hashes with the new seed and new sessions are
    /// all served, each by one node.
    /// </summary>
    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public async Task ReloadWeb_SeedEditedOnEveryNode_SessionsKeepTheirNodeUntilClosedNoneResetAndNewSessionsServed()
    {
        var ct = testContext.CancellationToken;
        farm = await RebalanceScenario.StartAsync(running: 3, LongDrain, ct);
        await using var load = await OpenTcpSessionsAsync(farm, ct);

        // The nodes of this fixture share one modules folder (as if the same edit were made on each machine).
        FarmConfigFiles.WriteModule(farm.Options.Modules.Single() with { Seed = 7 }, Path.Combine(farm.Root, "modules"));

        var reloading = Task.Run(() => Farmctl("module", "reload", RebalanceScenario.ModuleName, "--node", "node0", "--node", "node1", "--node", "node2"), ct);

        // Node after node: a node drains at its own reload, or earlier, once the farm has agreed on the new definition while
        // it still runs the old one (one definition serves new flows at a time); either way its sessions have lived
        // through every reload before its own. The client then closes them (answered by that node all along), which ends
        // its drain and lets its reload go on.
        for (int i = 0; i < 3; i++)
        {
            string node = FarmFixture.NodeName(i);
            var onNode = Enumerable.Range(0, load.Count).Where(s => load.NodeOf(s) == node).ToHashSet();
            Assert.IsGreaterThan(20, onNode.Count, $"{node} holds sessions");
            await Poll.UntilAsync(() => DrainingAsync(i, ct), d => d > 0 || reloading.IsCompleted, $"{node} draining", Settle, ct);
            Assert.IsFalse(reloading.IsCompleted, "the reload waits for the sessions of the node it drains: " + (reloading.IsCompleted ? reloading.Result.Output : ""));
            testContext.WriteLine($"{node} draining after {load.Elapsed.TotalMilliseconds:F0} ms: {load.Snapshot()}");

            // The reload waits for them: a second more, the node still answers every one (a stop or a data plane rebuilt
            // meanwhile would reset them, and the verdict below would count it).
            await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, ct);
            Assert.AreEqual(0, load.Snapshot().Reset, $"{node}'s sessions outlive the start of its drain");
            var closes = await load.CloseAsync(s => onNode.Contains(s.Index), ct);
            Assert.IsTrue(closes.All(c => c.Clean), string.Join("\n", closes.Where(c => !c.Clean)));
        }

        var reload = await reloading;
        testContext.WriteLine($"farmctl module reload:\n{reload.Output}{reload.Error}");
        Assert.AreEqual(0, reload.Code, reload.Output + reload.Error);
        for (int i = 0; i < 3; i++)
        {
            StringAssert.Contains(reload.Output, $"node{i}: folder read; web: reloaded: drained, stopped, swapped (seed changed: data plane rebuilt), started (UP/Ready)");
        }

        var final = await load.StopAsync(ct);
        testContext.WriteLine($"sessions through the roll: {final}");
        Assert.AreEqual(RebalanceScenario.ClientAddresses, final.Total);
        Assert.AreEqual(0, final.Reset, final.ToString());
        Assert.AreEqual(0, final.Failed, final.ToString());
        Assert.AreEqual(0, final.Stalls, $"stalls longer than {final.StallThreshold.TotalMilliseconds} ms: {final}");
        Assert.AreEqual(0, final.NodeChanges, final.ToString());
        Assert.AreEqual(0, final.AnsweredByTwo, final.ToString());

        // The new table: every kernel hashes with seed 7, the buckets split evenly, new sessions are all served by one node.
        for (int i = 0; i < 3; i++)
        {
            var listed = await farm.Nodes[i].Namespace.NftAsync(["-j", "list", "table", "inet", KernelBucketSampler.FilterTableName(RebalanceScenario.ModuleName)], cancellationToken: ct);
            StringAssert.Matches(listed.StandardOutput, new System.Text.RegularExpressions.Regex("\"seed\":\\s*7\\b"), $"node{i} hashes with the new seed");
        }

        await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 1, [2] = 1 }, Settle, ct);
        await using var after = await OpenTcpSessionsAsync(farm, ct);
        var fresh = await after.StopAsync(ct);
        Assert.AreEqual((0, 0, 0), (fresh.Reset, fresh.Failed, fresh.AnsweredByTwo), fresh.ToString());
        Assert.AreEqual(3, Enumerable.Range(0, after.Count).Select(after.NodeOf).Distinct().Count(), "the new sessions spread over the three nodes");
    }

    /// <summary>One TCP session per client address to the VIP, returned once every session is open and answered three times.</summary>
    private static async Task<SessionLoad> OpenTcpSessionsAsync(FarmFixture farm, CancellationToken ct)
    {
        var load = await SessionLoad.StartAsync(farm.Client.Namespace, farm.Sources(), [RebalanceScenario.Vip], RebalanceScenario.TcpPort, cancellationToken: ct);
        try
        {
            await load.WaitUntilAsync(s => s.Open == RebalanceScenario.ClientAddresses && s.MinRoundTrips >= 3, Settle, ct);
            return load;
        }
        catch
        {
            await load.DisposeAsync();
            throw;
        }
    }

    /// <summary>Buckets node <paramref name="index"/> drains; 0 while its module is between two definitions (no table to report).</summary>
    private async Task<int> DrainingAsync(int index, CancellationToken ct)
    {
        using var admin = farm!.Daemon(index).CreateAdminClient();
        var report = await admin.GetStatusAsync(ct);
        return report.Nodes.Single(n => n.IsSelf).Buckets.FirstOrDefault(b => b.Module == RebalanceScenario.ModuleName)?.Draining ?? 0;
    }

    private (int Code, string Output, string Error) Farmctl(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run([.. args, "--socket", farm!.Daemon(0).AdminSocket], output, error);
        return (code, output.ToString(), error.ToString());
    }
}
