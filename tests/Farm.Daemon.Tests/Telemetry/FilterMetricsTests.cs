using Farm.DataPlane.Filtering;

namespace Farm.Daemon.Tests.Telemetry;

[TestClass]
public sealed class FilterMetricsTests
{
    [TestMethod]
    public void Accepted_HandoverDrops_SubtractedFromWhatTheBucketRulesLetOn()
    {
        var counters = Counters(owned: (100, 10_000), incoming: (20, 2_000), draining: (10, 1_000), handoverDrop: (5, 300));

        var accepted = FilterMetrics.Accepted(counters);

        Assert.AreEqual(new CounterValue(125, 12_700), accepted);
    }

    [TestMethod]
    public async Task Update_FilterInstalledAgain_TotalsKeepGrowing()
    {
        var (registry, factory) = MetricsText.NewRegistry();
        var metrics = new FilterMetrics(factory);

        metrics.Update("web", Counters(owned: (100, 10_000), foreign: 40));
        metrics.Update("web", Counters(owned: (3, 300), foreign: 2)); // the module stopped and started: counters from zero
        var text = await MetricsText.ScrapeAsync(registry);

        Assert.AreEqual(103, text["farm_accepted_packets_total{module=\"web\"}"]);
        Assert.AreEqual(10_300, text["farm_accepted_bytes_total{module=\"web\"}"]);
        Assert.AreEqual(42, text["farm_dropped_packets_total{module=\"web\",reason=\"foreign\"}"]);
        Assert.AreEqual(0, text["farm_dropped_packets_total{module=\"web\",reason=\"nolease\"}"]);
    }

    private static FilterCounters Counters(
        (ulong, ulong) owned = default, (ulong, ulong) incoming = default, (ulong, ulong) draining = default, (ulong, ulong) handoverDrop = default, ulong foreign = 0) =>
        new(new Dictionary<string, CounterValue>
        {
            [FilterCounters.Owned] = new(owned.Item1, owned.Item2),
            [FilterCounters.Incoming] = new(incoming.Item1, incoming.Item2),
            [FilterCounters.Draining] = new(draining.Item1, draining.Item2),
            [FilterCounters.HandoverDrop] = new(handoverDrop.Item1, handoverDrop.Item2),
            [FilterCounters.Foreign] = new(foreign, foreign * 60),
        });
}
