namespace Farm.Daemon.Tests.Telemetry;

[TestClass]
public sealed class RoundTripMetricsTests
{
    [TestMethod]
    public async Task Observe_SamplesOfTwoLans_CumulativeBucketsPerPeerAndLanName()
    {
        var (registry, factory) = MetricsText.NewRegistry();
        var metrics = new RoundTripMetrics(factory, ["default", "backup"]);

        metrics.Observe("n2", 0, TimeSpan.FromMicroseconds(300));
        metrics.Observe("n2", 0, TimeSpan.FromMilliseconds(3));
        metrics.Observe("n2", 1, TimeSpan.FromMilliseconds(30));
        var text = await MetricsText.ScrapeAsync(registry);

        Assert.AreEqual(0, text["farm_heartbeat_rtt_seconds_bucket{node=\"n2\",lan=\"default\",le=\"0.00025\"}"]);
        Assert.AreEqual(1, text["farm_heartbeat_rtt_seconds_bucket{node=\"n2\",lan=\"default\",le=\"0.0005\"}"]);
        Assert.AreEqual(2, text["farm_heartbeat_rtt_seconds_bucket{node=\"n2\",lan=\"default\",le=\"0.005\"}"]);
        Assert.AreEqual(2, text["farm_heartbeat_rtt_seconds_count{node=\"n2\",lan=\"default\"}"]);
        Assert.AreEqual(0.0033, text["farm_heartbeat_rtt_seconds_sum{node=\"n2\",lan=\"default\"}"], 1e-9);
        Assert.AreEqual(0, text["farm_heartbeat_rtt_seconds_bucket{node=\"n2\",lan=\"backup\",le=\"0.025\"}"]);
        Assert.AreEqual(1, text["farm_heartbeat_rtt_seconds_bucket{node=\"n2\",lan=\"backup\",le=\"0.05\"}"]);
    }

    [TestMethod]
    public void Record_ObserverSet_HearsEverySampleTheRingKeeps()
    {
        var rings = new RoundTrips();
        var heard = new List<(string Peer, int Lan, TimeSpan RoundTrip)>();
        rings.Observer = (peer, lan, rtt) => heard.Add((peer, lan, rtt));

        rings.Record("n2", 0, TimeSpan.FromMilliseconds(1));
        rings.Record("n3", 1, TimeSpan.FromMilliseconds(2));

        CollectionAssert.AreEqual(new[] { ("n2", 0, TimeSpan.FromMilliseconds(1)), ("n3", 1, TimeSpan.FromMilliseconds(2)) }, heard);
        Assert.AreEqual(1, rings.Of("n2", 0).Count);
    }
}
