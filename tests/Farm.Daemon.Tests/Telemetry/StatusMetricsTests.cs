using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Telemetry;

[TestClass]
public sealed class StatusMetricsTests
{
    [TestMethod]
    // peer down: one series per state, only the current at 1
    [DataRow("farm_node_state{node=\"n2\",state=\"down\"}", 1.0)]
    [DataRow("farm_node_state{node=\"n2\",state=\"up\"}", 0.0)]
    [DataRow("farm_node_state{node=\"n1\",state=\"up\"}", 1.0)]
    [DataRow("farm_node_in_view{node=\"n2\"}", 0.0)]
    [DataRow("farm_peer_reachable{node=\"n2\",lan=\"default\"}", 0.0)]
    [DataRow("farm_peer_last_heard_seconds{node=\"n2\",lan=\"default\"}", 2.5)]
    [DataRow("farm_view_epoch", 7.0)]
    [DataRow("farm_config_version", 3.0)]
    // self handing over: module buckets by state and the oldest drain
    [DataRow("farm_module_buckets{module=\"web\",state=\"owned\"}", 200.0)]
    [DataRow("farm_module_buckets{module=\"web\",state=\"incoming\"}", 5.0)]
    [DataRow("farm_module_buckets{module=\"web\",state=\"draining\"}", 9.0)]
    [DataRow("farm_drain_oldest_seconds{module=\"web\"}", 1.5)]
    [DataRow("farm_module_table_buckets{module=\"web\"}", 256.0)]
    [DataRow("farm_node_buckets{node=\"n2\",module=\"web\"}", 56.0)]
    [DataRow("farm_node_drain_state{node=\"n1\",state=\"draining\"}", 1.0)]
    [DataRow("farm_node_module_ready{node=\"n1\",module=\"web\"}", 1.0)]
    // module and checkers: state one-hot, verdicts once known
    [DataRow("farm_module_state{module=\"web\",state=\"wait\"}", 1.0)]
    [DataRow("farm_module_state{module=\"web\",state=\"up\"}", 0.0)]
    [DataRow("farm_module_substate{module=\"web\",substate=\"not_ready\"}", 1.0)]
    [DataRow("farm_module_recoveries_in_window{module=\"web\"}", 2.0)]
    public async Task Update_Report_SeriesHasTheReportedValue(string series, double expected)
    {
        var text = await ScrapeAfterAsync(Report());

        Assert.AreEqual(expected, text[series]);
    }

    [TestMethod]
    public async Task Update_RoundTripsOfAPeer_SecondsFromMicroseconds()
    {
        var report = Report();
        var lan = report.Nodes[1].Lans[0];
        (lan.RttP50Us, lan.RttP99Us, lan.RttSamples) = (250, 1500, 512);

        var text = await ScrapeAfterAsync(report);

        Assert.AreEqual(0.00025, text["farm_heartbeat_rtt_p50_seconds{node=\"n2\",lan=\"default\"}"], 1e-12);
        Assert.AreEqual(0.0015, text["farm_heartbeat_rtt_p99_seconds{node=\"n2\",lan=\"default\"}"], 1e-12);
        Assert.AreEqual(512, text["farm_heartbeat_rtt_samples{node=\"n2\",lan=\"default\"}"]);
        Assert.IsFalse(text.Samples.Keys.Any(k => k.Contains("node=\"n1\",lan=", StringComparison.Ordinal)), "no LAN series for this node itself");
    }

    [TestMethod]
    public async Task Update_CheckerWithoutVerdict_HasNoSeries()
    {
        var text = await ScrapeAfterAsync(Report());

        Assert.AreEqual(0, text["farm_checker_up{module=\"web\",checker=\"tcp\"}"], "the checker with a verdict has its series");
        Assert.IsFalse(text.Samples.ContainsKey("farm_checker_up{module=\"web\",checker=\"fresh\"}"), "a checker without a verdict has no series");
    }

    [TestMethod]
    public async Task Update_RejectionsFromTwoSources_CountedByReasonAndNeverDown()
    {
        var (registry, metrics) = Create();
        var report = Report();
        report.Rejected.Add(new Wire.RejectionCounter { Source = "198.18.0.9", Reason = "bad_mac", Count = 4 });
        report.Rejected.Add(new Wire.RejectionCounter { Source = "198.18.0.8", Reason = "bad_mac", Count = 3 });
        report.Rejected.Add(new Wire.RejectionCounter { Source = "198.18.0.8", Reason = "replayed", Count = 1 });

        metrics.Update(report);
        var first = await MetricsText.ScrapeAsync(registry);
        report.Rejected.RemoveAt(0); // a counter that went away (the table is bounded) must not lower the total
        metrics.Update(report);
        var second = await MetricsText.ScrapeAsync(registry);

        Assert.AreEqual(7, first["farm_rejected_messages_total{reason=\"bad_mac\"}"]);
        Assert.AreEqual(1, first["farm_rejected_messages_total{reason=\"replayed\"}"]);
        Assert.AreEqual(7, second["farm_rejected_messages_total{reason=\"bad_mac\"}"]);
    }

    /// <summary>A fresh registry's text after one update with <paramref name="report"/>.</summary>
    private static async Task<Farm.Testing.Metrics.PrometheusText> ScrapeAfterAsync(Wire.NodeStatusReport report)
    {
        var (registry, metrics) = Create();
        metrics.Update(report);
        return await MetricsText.ScrapeAsync(registry);
    }

    private static (CollectorRegistry Registry, StatusMetrics Metrics) Create()
    {
        var (registry, factory) = MetricsText.NewRegistry();
        return (registry, new StatusMetrics(factory));
    }

    /// <summary>n1 (this node, draining web while it takes over some buckets) and n2 (down, heard 2.5 s ago).</summary>
    private static Wire.NodeStatusReport Report()
    {
        var report = new Wire.NodeStatusReport { Node = "n1", InstalledEpoch = 7, ConfigVersion = 3 };
        var self = new Wire.NodeStatus { Name = "n1", IsSelf = true, InView = true, Weight = 100, State = Wire.NodeState.Up, DrainState = Wire.DrainState.Draining };
        self.Lans.Add(new Wire.LanReachability { Lan = "default", Reachable = true });
        self.Buckets.Add(new Wire.ModuleBuckets
        {
            Module = "web", Buckets = 200, BucketCount = 256, Incoming = 5, Draining = 9, OldestDrainAgeMs = 1500, Readiness = Wire.ModuleReadiness.Ready,
        });
        var peer = new Wire.NodeStatus { Name = "n2", InView = false, Weight = 100, State = Wire.NodeState.Down };
        peer.Lans.Add(new Wire.LanReachability { Lan = "default", Reachable = false, LastHeardAgeMs = 2500 });
        peer.Buckets.Add(new Wire.ModuleBuckets { Module = "web", Buckets = 56, BucketCount = 256, Readiness = Wire.ModuleReadiness.Unknown });
        report.Nodes.Add(self);
        report.Nodes.Add(peer);

        var module = new Wire.ModuleReport { Module = "web", State = Wire.ModuleRunState.Wait, SubState = Wire.ModuleSubState.NotReady, RecoveryCount = 2 };
        module.Checkers.Add(new Wire.CheckerReport { Name = "tcp", Up = false });
        module.Checkers.Add(new Wire.CheckerReport { Name = "fresh" });
        report.Modules.Add(module);
        return report;
    }
}
