using Prometheus;

namespace Farm.Daemon.Telemetry;

/// <summary>
/// <c>farm_heartbeat_rtt_seconds</c>: every successful heartbeat round trip per peer and LAN, as a cumulative histogram
/// (the p50/p99 gauges of <see cref="StatusMetrics"/> cover only the transport's last 512 samples). Fed by the transport
/// on the thread that opened the answer: an observation is a cached child lookup and an interlocked add.
/// </summary>
internal sealed class RoundTripMetrics
{
    /// <summary>Buckets from 100 µs (loopback) to 1 s (beyond the default detection timeout).</summary>
    internal static readonly double[] Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private readonly Histogram roundTrips;
    private readonly IReadOnlyList<string> lans;

    /// <param name="factory">The node's metric factory.</param>
    /// <param name="lans">The cluster file's LAN names, by index (the <c>lan</c> label, as on the other peer metrics).</param>
    public RoundTripMetrics(IMetricFactory factory, IReadOnlyList<string> lans)
    {
        ArgumentNullException.ThrowIfNull(factory);
        this.lans = lans ?? throw new ArgumentNullException(nameof(lans));
        roundTrips = factory.CreateHistogram(
            "farm_heartbeat_rtt_seconds",
            "Heartbeat round trips to the peer on the LAN (seal, HTTP/2, the peer's handling, open), every successful exchange.",
            ["node", "lan"],
            new HistogramConfiguration { Buckets = Buckets });
    }

    /// <summary>Records one successful heartbeat exchange with <paramref name="peer"/> on <paramref name="lan"/>.</summary>
    public void Observe(string peer, int lan, TimeSpan roundTrip) =>
        roundTrips.WithLabels(peer, lan < lans.Count ? lans[lan] : lan.ToString(System.Globalization.CultureInfo.InvariantCulture)).Observe(roundTrip.TotalSeconds);
}
