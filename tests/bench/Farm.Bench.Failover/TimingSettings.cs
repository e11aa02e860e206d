namespace Farm.Bench.Failover;

/// <summary>One set of failure-detection timings the benchmark runs with (cluster file <c>heartbeat</c>).</summary>
/// <param name="Name">Short name used on the command line and in the report.</param>
/// <param name="Heartbeat">Interval, detection timeout and lease.</param>
internal sealed record TimingSettings(string Name, HeartbeatOptions Heartbeat)
{
    /// <summary>farmd's defaults, whatever they are (today: interval 50 ms, detection timeout 300 ms, lease 150 ms).</summary>
    public static TimingSettings Default { get; } = new("default", new HeartbeatOptions());

    /// <summary>The earlier defaults: interval 100 ms, detection timeout 1 s, lease 600 ms.</summary>
    public static TimingSettings OneSecond { get; } = Of("1s", interval: 100, detectionTimeout: 1000, lease: 600);

    /// <summary>
    /// A short detection timeout: interval 50 ms, detection timeout 300 ms, lease 150 ms (the validator's rule
    /// <c>interval &lt; lease &lt;= detection_timeout - 2 x interval</c> allows up to 200 ms). Equal to today's defaults.
    /// </summary>
    public static TimingSettings Fast { get; } = Of("fast", interval: 50, detectionTimeout: 300, lease: 150);

    /// <summary>"interval 100 ms, detection timeout 1000 ms, lease 600 ms".</summary>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"interval {Heartbeat.Interval.TotalMilliseconds:0} ms, detection timeout {Heartbeat.DetectionTimeout.TotalMilliseconds:0} ms, lease {Heartbeat.Lease.TotalMilliseconds:0} ms");

    private static TimingSettings Of(string name, int interval, int detectionTimeout, int lease) => new(
        name,
        new HeartbeatOptions
        {
            Interval = TimeSpan.FromMilliseconds(interval),
            DetectionTimeout = TimeSpan.FromMilliseconds(detectionTimeout),
            Lease = TimeSpan.FromMilliseconds(lease),
        });
}
