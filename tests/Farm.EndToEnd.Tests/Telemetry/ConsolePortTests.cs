using Farm.Testing.Metrics;

namespace Farm.EndToEnd.Tests.Telemetry;

/// <summary>
/// The console port of real farmd processes in network namespaces: every node's <c>/metrics</c> passes
/// <c>promtool check metrics</c>, its values follow traffic, a drain and a failover, and <c>/ready/MODULE</c> answers
/// 200 only on nodes that serve the module. Scrapes run with curl inside the node's own namespace.
/// </summary>
[TestClass]
public sealed class ConsolePortTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private FarmFixture? farm;

    /// <summary>Set by MSTest.</summary>
    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public async Task InitializeAsync()
    {
        await Requirements.NamespacesAsync(needNft: true);
        await Requirements.ToolsAsync("curl", "promtool");
    }

    [TestCleanup]
    public Task CleanupAsync() => TestFarm.EndAsync(farm, TestContext);

    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public async Task Metrics_TrafficDrainAndKill_PassPromtoolAndFollowTheFarm()
    {
        var ct = TestContext.CancellationToken;
        farm = await RebalanceScenario.StartAsync(running: 3, TimeSpan.FromSeconds(1), ct);
        var acceptors = await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 1, [2] = 1 }, Settle, ct);

        // Every node: valid exposition, the whole farm up, all buckets owned once across the farm.
        var before = new List<PrometheusText>();
        for (int i = 0; i < 3; i++)
        {
            before.Add(await ScrapeAsync(i, ct));
            await CheckWithPromtoolAsync(before[i], ct);
            for (int peer = 0; peer < 3; peer++)
            {
                Assert.AreEqual(1, before[i][$"farm_node_state{{node=\"{Node(peer)}\",state=\"up\"}}"], $"{Node(i)} sees {Node(peer)} up");
            }
        }

        Assert.AreEqual(RebalanceScenario.Buckets, before.Sum(s => s[Owned]), "owned buckets add up to the table");
        Assert.IsTrue(before.All(s => s.Has("farm_heartbeat_rtt_p99_seconds")), "round trips are reported");
        foreach (int i in new[] { 0, 1, 2 })
        {
            Assert.AreEqual(200, await ReadyAsync(i, RebalanceScenario.ModuleName, ct), $"{Node(i)} serves web");
        }

        Assert.AreEqual(404, await ReadyAsync(0, "nope", ct));

        // Traffic: each node's filter counts what it accepted.
        var wrong = await farm.MisroutedNewFlowsAsync(acceptors, RebalanceScenario.TcpPort, 31000);
        Assert.IsEmpty(wrong, string.Join("\n", wrong.Take(10)));
        var afterTraffic = new List<PrometheusText>();
        for (int i = 0; i < 3; i++)
        {
            afterTraffic.Add(await ScrapeAsync(i, ct));
            Assert.IsGreaterThan(before[i][Accepted], afterTraffic[i][Accepted], $"{Node(i)} counted accepted packets");
        }

        // Drain node1: it hands its buckets over and says so; /ready follows.
        Assert.IsTrue(string.IsNullOrEmpty((await farm.DrainAsync(1, DrainAction.Drain, via: 0, ct)).Error));
        var drained = await PollScrapeAsync(1, s => s[$"farm_node_drain_state{{node=\"{Node(1)}\",state=\"drained\"}}"] == 1, "node1 drained in its metrics", ct);
        Assert.AreEqual(0, drained[Owned]);
        Assert.AreEqual(1, drained["farm_leaving"]);
        Assert.AreEqual(503, await ReadyAsync(1, RebalanceScenario.ModuleName, ct), "a drained node does not serve");
        var afterDrain = await PollScrapeAsync(0, s => s[Owned] == RebalanceScenario.Buckets / 2, "node0 owning half the buckets", ct);
        Assert.IsGreaterThan(afterTraffic[0]["farm_view_changes_total"], afterDrain["farm_view_changes_total"]);
        Assert.IsGreaterThan(afterTraffic[0]["farm_view_epoch"], afterDrain["farm_view_epoch"]);
        await CheckWithPromtoolAsync(afterDrain, ct);

        // Kill node2: the survivors see it down and measure how long its removal took.
        farm.Daemon(2).Kill();
        await farm.ForgetAsync(2, "killed");
        var failedOver = await PollScrapeAsync(
            0, s => s[$"farm_node_state{{node=\"{Node(2)}\",state=\"down\"}}"] == 1 && s[Owned] == RebalanceScenario.Buckets, "node0 owning everything after node2's death", ct);
        double detections = failedOver[$"farm_peer_failure_detection_seconds_count{{node=\"{Node(2)}\"}}"];
        double detectionSum = failedOver[$"farm_peer_failure_detection_seconds_sum{{node=\"{Node(2)}\"}}"];
        TestContext.WriteLine($"node2 removed {detectionSum / detections:0.000} s after its last message");
        Assert.AreEqual(1, detections);
        // A killed farmd whose host stays up is seen dead at once (the crash fast path), so no lower bound but > 0.
        Assert.IsTrue(detectionSum > 0 && detectionSum < farm.Cluster.Heartbeat.DetectionTimeout.TotalSeconds * 2, $"detection took {detectionSum} s");
        Assert.AreEqual(0, failedOver[$"farm_peer_reachable{{node=\"{Node(2)}\",lan=\"default\"}}"]);
        Assert.AreEqual(200, await ReadyAsync(0, RebalanceScenario.ModuleName, ct));
        await CheckWithPromtoolAsync(failedOver, ct);
    }

    private const string Owned = "farm_module_buckets{module=\"web\",state=\"owned\"}";
    private const string Accepted = "farm_accepted_packets_total{module=\"web\"}";

    private static string Node(int index) => FarmFixture.NodeName(index);

    private string ConsoleUrl(int index, string path) =>
        string.Create(CultureInfo.InvariantCulture, $"https://{FarmTopology.NodeAddress4(index)}:{farm!.Cluster.ConsolePort}{path}");

    private async Task<PrometheusText> ScrapeAsync(int index, CancellationToken ct)
    {
        var result = await farm!.Topology.Nodes[index].Namespace.ExecAsync(
            "curl", ["-sSk", "--max-time", "5", ConsoleUrl(index, "/metrics")], timeout: TimeSpan.FromSeconds(10), cancellationToken: ct);
        return new PrometheusText(result.StandardOutput, Node(index));
    }

    private async Task<PrometheusText> PollScrapeAsync(int index, Func<PrometheusText, bool> done, string what, CancellationToken ct) =>
        await Poll.UntilAsync(() => ScrapeAsync(index, ct), s => s.Holds(done), what, Settle, ct, TimeSpan.FromMilliseconds(200));

    private async Task<int> ReadyAsync(int index, string module, CancellationToken ct)
    {
        var result = await farm!.Topology.Nodes[index].Namespace.ExecAsync(
            "curl", ["-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", ConsoleUrl(index, "/ready/" + module)], timeout: TimeSpan.FromSeconds(10), cancellationToken: ct);
        return int.Parse(result.StandardOutput, CultureInfo.InvariantCulture);
    }

    private static async Task CheckWithPromtoolAsync(PrometheusText scrape, CancellationToken ct)
    {
        var check = await CommandRunner.Default.RunUncheckedAsync("promtool", ["check", "metrics"], scrape.Text, cancellationToken: ct);
        Assert.AreEqual(0, check.ExitCode, $"promtool on {scrape.Source}: {check.StandardOutput}{check.StandardError}");
        Assert.AreEqual("", (check.StandardOutput + check.StandardError).Trim(), $"promtool on {scrape.Source} reports problems");
    }
}
