using Farm.Core.Config;

namespace Farm.Cluster.Membership;

/// <summary>Timing and policy of the membership protocol (from the cluster file's <c>heartbeat</c> and <c>split_brain</c>).</summary>
public sealed record MembershipOptions
{
    /// <summary>
    /// The cluster file's <c>heartbeat</c> timings, as bound and validated there (defaults and rules in
    /// <see cref="HeartbeatOptions"/>; not copied field by field).
    /// </summary>
    public HeartbeatOptions Heartbeat { get; init; } = new();

    /// <summary>Time between heartbeats to every peer on every LAN (<see cref="HeartbeatOptions.Interval"/>).</summary>
    public TimeSpan HeartbeatInterval => Heartbeat.Interval;

    /// <summary>A peer is lost when nothing valid arrived from it on any LAN for this long (<see cref="HeartbeatOptions.DetectionTimeout"/>).</summary>
    public TimeSpan DetectionTimeout => Heartbeat.DetectionTimeout;

    /// <summary>The kernel lease: traffic stops this long after the last refresh (<see cref="HeartbeatOptions.Lease"/>).</summary>
    public TimeSpan Lease => Heartbeat.Lease;

    /// <summary>What a side of a partition may serve. Default <see cref="SplitBrainPolicy.None"/>.</summary>
    public SplitBrainPolicy SplitBrainPolicy { get; init; } = SplitBrainPolicy.None;

    /// <summary>Every node of the cluster file, by name (the majority is computed over them).</summary>
    public required IReadOnlyList<string> ConfiguredNodes { get; init; }

    /// <summary>Number of heartbeat LANs (each peer has one address per LAN). Default 1.</summary>
    public int LanCount { get; init; } = 1;

    /// <summary>
    /// True when the host reports drain progress (<see cref="MembershipManager.ReportDrains"/>: which draining buckets
    /// still track connections, after each applied snapshot). False (no data plane): every draining bucket counts as
    /// busy until the module's drain timeout, and this node's reports follow its own states at once.
    /// </summary>
    public bool TracksDrains { get; init; }

    /// <summary>
    /// Round trips count for a lease refresh only if they started within this window:
    /// <c>DetectionTimeout - Lease - HeartbeatInterval</c>, so a node's lease ends before any peer may give its buckets away.
    /// </summary>
    public TimeSpan FreshnessWindow => DetectionTimeout - Lease - HeartbeatInterval;

    /// <summary>
    /// A heartbeat to a peer that answered one on the same LAN within this span is quiet (asks no answer), unless the
    /// policy is <see cref="SplitBrainPolicy.Majority"/> (its lease rests on the answers of every tick) or this node's
    /// lease is not steady (it resynchronizes after a lapse, or has none yet): <c>DetectionTimeout - HeartbeatInterval</c>.
    /// Each side still hears the other every interval through the other's own heartbeats, so detection is unchanged;
    /// what goes is the answer to each of them, which policies <c>none</c> and <c>witness</c> read only when a lease
    /// resynchronizes. One answer per pair and LAN in this span keeps the round-trip figures and shows a heartbeat
    /// stream that stopped delivering. At the default timings: one heartbeat in five asks an answer.
    /// </summary>
    public TimeSpan QuietSpan => DetectionTimeout - HeartbeatInterval;

    /// <summary>
    /// How long a node that has no view yet listens before it forms one of its own: 2 × detection timeout, at least
    /// 2 s. Long enough that a node starting on a loaded machine hears the running farm (and joins it) instead of
    /// starting a second one beside it.
    /// </summary>
    public TimeSpan StartupGrace => DetectionTimeout * 2 > TimeSpan.FromSeconds(2) ? DetectionTimeout * 2 : TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest a starting node listens while a peer that made contact is not heard yet: five times
    /// <see cref="StartupGrace"/> (see <c>MembershipManager.StartupGrace</c>).
    /// </summary>
    public TimeSpan StartupGraceLimit => StartupGrace * 5;

    /// <summary>A coordinator abandons a proposal that did not complete within this time. 5 heartbeat intervals.</summary>
    public TimeSpan ProposalTimeout => HeartbeatInterval * 5;

    /// <summary>Throws when the timings break <see cref="HeartbeatOptions.Problem"/>'s rule (the lease must end before detection) or there are no nodes.</summary>
    public void Validate()
    {
        if (Heartbeat.Problem() is { } problem)
        {
            throw new ArgumentException($"heartbeat: {problem}.");
        }

        if (ConfiguredNodes.Count == 0)
        {
            throw new ArgumentException("The cluster has no nodes.");
        }
    }
}
