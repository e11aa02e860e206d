using Prometheus;

namespace Farm.Daemon.Telemetry;

/// <summary>
/// The membership events that no status holds as a count: views installed, how long a lost peer took to leave the
/// view, and lapses of the kernel lease. An ownership sink (attached after the data plane): it hears each new ownership
/// snapshot, which only a view or hand-over change makes, and each lease refresh, where it keeps one timestamp.
/// </summary>
internal sealed class ViewMetrics : IOwnershipSink
{
    /// <summary>Buckets of <c>farm_peer_failure_detection_seconds</c>: around the default 1 s detection timeout.</summary>
    internal static readonly double[] DetectionBuckets = [0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 30];

    private readonly MembershipHost host;
    private readonly TimeProvider time;
    private readonly Counter viewChanges;
    private readonly Histogram failureDetection;
    private readonly Counter leaseLapses;
    private readonly Lock gate = new();
    private ViewId? lastView;
    private HashSet<string> lastMembers = new(StringComparer.Ordinal);
    private long lastRefresh;
    private TimeSpan lastLease;

    public ViewMetrics(MembershipHost host, TimeProvider timeProvider, IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        viewChanges = factory.CreateCounter("farm_view_changes_total", "Views this node installed (the first one included).");
        failureDetection = factory.CreateHistogram(
            "farm_peer_failure_detection_seconds",
            "Time from a lost peer's last message to the installed view without it (peers that left gracefully are not counted).",
            ["node"],
            new HistogramConfiguration { Buckets = DetectionBuckets });
        leaseLapses = factory.CreateCounter("farm_lease_lapses_total", "Times the kernel lease ran out before the next refresh (a stall, a lost witness, a resynchronization).");
    }

    /// <inheritdoc />
    public void Publish(OwnershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (gate)
        {
            if (snapshot.View is not { } view || (lastView is { } seen && view <= seen))
            {
                return;
            }

            lastView = view;
        }

        // Once per view: who left, and how long ago we heard each one that did not leave by itself.
        var (members, lost) = host.Read((m, now) =>
        {
            var inView = m.Installed?.Members.Select(x => x.Name).ToHashSet(StringComparer.Ordinal) ?? [];
            var gone = new List<(string Name, double Seconds)>();
            foreach (var peer in m.PeerStatuses(now))
            {
                if (!inView.Contains(peer.Name) && !peer.Reachable && peer.LastHeard is { } heard)
                {
                    gone.Add((peer.Name, (now - heard).TotalSeconds));
                }
            }

            return (inView, gone);
        });

        lock (gate)
        {
            viewChanges.Inc();
            foreach (var (name, seconds) in lost)
            {
                if (lastMembers.Contains(name))
                {
                    failureDetection.WithLabels(name).Observe(seconds);
                }
            }

            lastMembers = members;
        }
    }

    /// <inheritdoc />
    public bool RefreshesLeaseInline => true;

    /// <inheritdoc />
    public void RefreshLease(TimeSpan duration)
    {
        // On the heartbeat thread after every tick (RefreshesLeaseInline): two stores, no allocation. Only that thread
        // writes these fields.
        long now = time.GetTimestamp();
        if (lastRefresh != 0 && time.GetElapsedTime(lastRefresh, now) > lastLease)
        {
            leaseLapses.Inc();
        }

        lastRefresh = now;
        lastLease = duration;
    }
}
