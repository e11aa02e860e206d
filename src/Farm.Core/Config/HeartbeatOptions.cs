namespace Farm.Core.Config;

/// <summary>Failure-detection timing (cluster file <c>cluster.heartbeat</c>).</summary>
public sealed record HeartbeatOptions
{
    // The defaults are the smallest timings measured without a single false positive in
    // tests/bench/membership/soak.sh (5 min, both cores saturated, a forced full GC every 200 ms in every
    // daemon); 200 ms detection failed within seconds. See docs/performance.md.

    /// <summary>Default of <see cref="Interval"/>: 50 ms.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Default of <see cref="DetectionTimeout"/>: 300 ms (at least 6 × interval when only the interval is set).</summary>
    public static readonly TimeSpan DefaultDetectionTimeout = TimeSpan.FromMilliseconds(300);

    /// <summary>Default of <see cref="Lease"/>: 150 ms.</summary>
    public static readonly TimeSpan DefaultLease = TimeSpan.FromMilliseconds(150);

    /// <summary>Smallest accepted <see cref="Interval"/>: 10 ms.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Largest accepted <see cref="Interval"/>: 10 s.</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(10);

    /// <summary><c>interval</c>: time between heartbeats to every peer on every LAN. Default 50 ms; 10 ms to 10 s.</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>
    /// <c>detection_timeout</c>: a peer is lost when no heartbeat exchange succeeded on any LAN for this long.
    /// Default 300 ms; at least 3 × <see cref="Interval"/> (one or two lost heartbeats must not evict a node), at most 60 s.
    /// </summary>
    public TimeSpan DetectionTimeout { get; init; } = DefaultDetectionTimeout;

    /// <summary>
    /// <c>lease</c>: the kernel-enforced lease a node renews on every tick; a stalled node drops VIP traffic
    /// when it expires. Default 150 ms; when the file sets <c>interval</c> or <c>detection_timeout</c>, the default
    /// is 60% of <c>detection_timeout</c>, capped at <c>detection_timeout - 2 × interval</c>.
    /// Must satisfy <c>interval &lt; lease &lt;= detection_timeout - 2 × interval</c>: a stalled node stops serving before
    /// its peers take its buckets over, and the membership window <c>detection_timeout - lease - interval</c> spans a heartbeat.
    /// </summary>
    public TimeSpan Lease { get; init; } = DefaultLease;

    /// <summary>How many intervals <see cref="DetectionTimeout"/> must span at least: a peer survives two lost heartbeats.</summary>
    public const int MinDetectionIntervals = 3;

    /// <summary>
    /// The longest lease these timings allow: <c>detection_timeout - 2 × interval</c>. The membership refreshes the lease
    /// only from round trips started within <c>detection_timeout - lease - interval</c>, which must span a heartbeat.
    /// </summary>
    public static TimeSpan MaxLease(TimeSpan detectionTimeout, TimeSpan interval) => detectionTimeout - 2 * interval;

    /// <summary>
    /// What is wrong with these timings, or null: the one rule, used by the cluster file binder (which names the key and
    /// the line) and by the membership for options built in code.
    /// </summary>
    public string? Problem()
    {
        if (DetectionTimeout < MinDetectionIntervals * Interval)
        {
            return $"detection_timeout {ConfigDuration.Format(DetectionTimeout)} is less than {MinDetectionIntervals} × interval ({ConfigDuration.Format(MinDetectionIntervals * Interval)})";
        }

        var maxLease = MaxLease(DetectionTimeout, Interval);
        return Lease <= Interval || Lease > maxLease
            ? $"lease {ConfigDuration.Format(Lease)} is outside interval ({ConfigDuration.Format(Interval)}) < lease <= detection_timeout - 2 × interval ({ConfigDuration.Format(maxLease)})"
            : null;
    }
}
