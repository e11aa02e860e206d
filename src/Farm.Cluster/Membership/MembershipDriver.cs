using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Membership;

/// <summary>
/// Pumps the effects of one <see cref="MembershipManager"/> for its host (farmd's MembershipHost, the simulation's
/// SimCluster): every call goes in with the time and comes back with what the host must do: the requests to send, the
/// ownership when it changed, a lease extension, whether the coordinator should run now. It also tells the host when
/// the coordinator may next act by time alone (<see cref="NextPollAt"/>). Not thread-safe: the host serializes calls.
/// </summary>
public sealed class MembershipDriver
{
    private readonly MembershipOptions options;
    private readonly HashSet<string> peerNames;
    private readonly Dictionary<string, (PeerSays Says, TimeSpan At)> lastHeartbeat = new(StringComparer.Ordinal);
    private long publishedVersion = -1;
    private TimeSpan refreshedLeaseExpiry = TimeSpan.MinValue;

    /// <summary>Creates the manager of node <paramref name="self"/>, started at <paramref name="now"/>, and drives it.</summary>
    public MembershipDriver(
        MembershipOptions options, MemberInfo self, string configHash, IReadOnlyList<ModuleSpec> modules, TimeSpan now, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(self);
        this.options = options;
        Manager = new MembershipManager(options, self, configHash, modules, now, logger);
        peerNames = new HashSet<string>(options.ConfiguredNodes.Where(n => n != self.Name), StringComparer.Ordinal);
    }

    /// <summary>The manager driven (read its state; call it through the driver when the call has effects).</summary>
    public MembershipManager Manager { get; }

    /// <summary>
    /// True once a data plane listens: from then on the effects carry the ownership when it changed since the previous
    /// call, and lease extensions.
    /// </summary>
    public bool PublishesOwnership { get; set; }

    /// <summary>One heartbeat tick (see <see cref="MembershipManager.Tick"/>).</summary>
    public MembershipEffects Tick(TimeSpan now)
    {
        Manager.Tick(now);
        var effects = TakeEffects();
        if (PublishesOwnership && Manager.LeaseExpiry > refreshedLeaseExpiry)
        {
            refreshedLeaseExpiry = Manager.LeaseExpiry;
            effects = effects with { LeaseExtendedTo = refreshedLeaseExpiry };
        }

        return effects;
    }

    /// <summary>Between ticks (see <see cref="MembershipManager.Poll"/>).</summary>
    public MembershipEffects Poll(TimeSpan now)
    {
        Manager.Poll(now);
        return TakeEffects();
    }

    /// <summary>Answers a request from an authenticated peer (see <see cref="MembershipManager.HandleRequest"/>).</summary>
    public (MembershipMessage Reply, MembershipEffects Effects) HandleRequest(string from, int lan, MembershipMessage request, TimeSpan now)
    {
        var reply = Manager.HandleRequest(from, lan, request, now);
        return (reply, TakeEffects() with { WakesCoordinator = NeedsCoordinator(request, now) });
    }

    /// <summary>Delivers the answer to a request (see <see cref="MembershipManager.HandleReply"/>).</summary>
    public MembershipEffects HandleReply(long correlationId, MembershipMessage reply, TimeSpan now)
    {
        Manager.HandleReply(correlationId, reply, now);
        return TakeEffects() with { WakesCoordinator = NeedsCoordinator(reply, now) };
    }

    /// <summary>Reports a failed request (see <see cref="MembershipManager.HandleFailure"/>).</summary>
    public MembershipEffects HandleFailure(long correlationId, TimeSpan now)
    {
        Manager.HandleFailure(correlationId, now);
        return TakeEffects();
    }

    /// <summary>Reports what the data plane found after it applied a snapshot (see <see cref="MembershipManager.ReportDrains"/>).</summary>
    public MembershipEffects ReportDrains(OwnershipSnapshot applied, IReadOnlyDictionary<string, ModuleDrainScan> scans, TimeSpan now)
    {
        Manager.ReportDrains(applied, scans, now);
        return TakeEffects();
    }

    /// <summary>
    /// After a tick or poll: when <see cref="MembershipManager.Poll"/> may next change something by time alone. While the
    /// view is not settled (no view yet, a promise open, a peer ahead of us, or the view's members are not exactly this
    /// node and the peers it hears) that is one <paramref name="pollInterval"/> from now: view changes keep their
    /// few-millisecond reaction. In a settled view only time can unsettle it: when a peer it hears reaches its detection
    /// timeout, and the earliest such deadline is returned. What messages change sets
    /// <see cref="MembershipEffects.WakesCoordinator"/> instead.
    /// </summary>
    /// <remarks>
    /// This mirrors the coordinator's own "settled" check from public state, conservatively (a vouched-for member counts
    /// as unsettled). Should it ever miss a case, the tick still runs the coordinator step every interval: a view change
    /// would start at most one interval later, never not at all.
    /// </remarks>
    public TimeSpan NextPollAt(TimeSpan now, TimeSpan pollInterval)
    {
        TimeSpan soon = now + pollInterval;
        if (Manager.Installed is not { } installed || Manager.Promised is not null)
        {
            return soon;
        }

        var heard = new List<MemberInfo>(peerNames.Count + 1) { Manager.Self };
        TimeSpan due = TimeSpan.MaxValue;
        foreach (var peer in Manager.PeerStatuses(now))
        {
            if (!peer.Reachable)
            {
                continue;
            }

            if (peer.Info is null || peer.LostAt is not { } lost ||
                ViewId.Compare(peer.Installed, installed.Id) > 0 || ViewId.Compare(peer.Promised, installed.Id) > 0)
            {
                return soon;
            }

            heard.Add(peer.Info);
            due = lost < due ? lost : due;
        }

        heard.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return installed.HasMembers(heard) ? due : soon;
    }

    /// <summary>The manager's outbox, and its ownership when that changed since the last call (else null).</summary>
    private MembershipEffects TakeEffects()
    {
        var outbox = Manager.TakeOutbox();
        var ownership = Manager.Ownership;
        if (!PublishesOwnership || ownership.Version == publishedVersion)
        {
            return new MembershipEffects(outbox, null);
        }

        publishedVersion = ownership.Version;
        return new MembershipEffects(outbox, ownership);
    }

    /// <summary>
    /// After the manager took <paramref name="message"/>: true when the coordinator may have to act on it now. View-change
    /// traffic always; a heartbeat only when its sender says something new (another run, weight, modules, leaving, config,
    /// view, witness) or was silent for half a detection timeout (it may have been lost meanwhile). Everything else waits
    /// for the tick.
    /// </summary>
    private bool NeedsCoordinator(MembershipMessage message, TimeSpan now) => message switch
    {
        HeartbeatRequest hb => Noted(new PeerSays(hb.Sender, hb.ConfigHash, hb.Installed, hb.Promised, hb.WitnessLost), now),
        HeartbeatReply hb => Noted(new PeerSays(hb.Sender, hb.ConfigHash, hb.Installed, hb.Promised, hb.WitnessLost), now),
        _ => true,
    };

    private bool Noted(PeerSays says, TimeSpan now)
    {
        string name = says.Sender.Name;
        if (!peerNames.Contains(name))
        {
            return false; // the manager ignores names outside the cluster file; keeps the table bounded
        }

        bool news = !lastHeartbeat.TryGetValue(name, out var last) || last.Says != says || now - last.At >= options.DetectionTimeout / 2;
        lastHeartbeat[name] = (says, now);
        return news;
    }

    /// <summary>What a heartbeat says that the coordinator decides on (value equality: MemberInfo compares its modules).</summary>
    private readonly record struct PeerSays(MemberInfo Sender, string ConfigHash, ViewId? Installed, ViewId? Promised, bool WitnessLost);
}
