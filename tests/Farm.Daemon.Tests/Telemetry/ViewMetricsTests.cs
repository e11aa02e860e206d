using Farm.Cluster.Membership;

namespace Farm.Daemon.Tests.Telemetry;

[TestClass]
public sealed class ViewMetricsTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(600);

    [TestMethod]
    public async Task RefreshLease_GapLongerThanTheLastLease_CountsOneLapse()
    {
        var clock = new FakeTimeProvider();
        using var host = LoneHost(clock);
        var (registry, factory) = MetricsText.NewRegistry();
        var metrics = new ViewMetrics(host, clock, factory);

        metrics.RefreshLease(Lease);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        metrics.RefreshLease(Lease);
        clock.Advance(TimeSpan.FromMilliseconds(599));
        metrics.RefreshLease(Lease);
        var intact = await MetricsText.ScrapeAsync(registry);
        clock.Advance(TimeSpan.FromMilliseconds(601));
        metrics.RefreshLease(Lease);
        var lapsed = await MetricsText.ScrapeAsync(registry);

        Assert.AreEqual(0, intact["farm_lease_lapses_total"]);
        Assert.AreEqual(1, lapsed["farm_lease_lapses_total"]);
    }

    [TestMethod]
    public async Task Publish_OneNodeInstallsItsFirstView_CountsOneViewChange()
    {
        var clock = new FakeTimeProvider();
        using var host = LoneHost(clock);
        host.Attach(new NullTransport());
        var (registry, factory) = MetricsText.NewRegistry();
        var metrics = new ViewMetrics(host, clock, factory);
        host.AttachSink(metrics);
        var before = await MetricsText.ScrapeAsync(registry);

        for (int i = 0; i < 100 && host.Read((m, _) => m.Installed) is null; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            host.Step();
        }

        var after = await MetricsText.ScrapeAsync(registry);
        Assert.AreEqual(0, before["farm_view_changes_total"]);
        Assert.IsNotNull(host.Read((m, _) => m.Installed), "the node formed a view alone");
        Assert.AreEqual(1, after["farm_view_changes_total"]);
    }

    /// <summary>The membership of n1, the only configured node, on <paramref name="clock"/>.</summary>
    private static MembershipHost LoneHost(TimeProvider clock) =>
        new(new MembershipOptions { ConfiguredNodes = ["n1"] }, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], clock, NullLoggerFactory.Instance);

    private sealed class NullTransport : Farm.Daemon.Transport.IPeerTransport
    {
        public void Send(OutboundRequest request)
        {
        }

        public void ProbeGone(string peer, string trigger)
        {
        }
    }
}
