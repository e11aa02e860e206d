namespace Farm.Testing.Topology;

/// <summary>Percentiles of the latencies a <see cref="LatencyHistogram"/> recorded in a time window.</summary>
/// <param name="Count">How many latencies the window holds.</param>
/// <param name="P50">The median.</param>
/// <param name="P90">The 90th percentile.</param>
/// <param name="P99">The 99th percentile.</param>
/// <param name="P999">The 99.9th percentile.</param>
/// <param name="Max">The largest latency, exact.</param>
public sealed record LatencySummary(long Count, TimeSpan P50, TimeSpan P90, TimeSpan P99, TimeSpan P999, TimeSpan Max)
{
    /// <summary>A window without latencies.</summary>
    public static LatencySummary Empty { get; } = new(0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"n={Count} p50={Ms(P50)} p90={Ms(P90)} p99={Ms(P99)} p99.9={Ms(P999)} max={Ms(Max)}");

    private static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " ms";
}
