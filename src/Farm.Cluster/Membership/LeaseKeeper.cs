using Farm.Core.Config;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Membership;

/// <summary>
/// The kernel lease: refreshed on every tick while the rule of the split-brain policy holds, and after a lapse (a
/// stall, a lost witness, the start) only once the peers confirmed that their views still list this node.
/// See docs/architecture.md ("The kernel lease and why it makes removal safe").
/// </summary>
internal sealed partial class LeaseKeeper(MembershipOptions options, WitnessMonitor witness, ILogger logger)
{
    private TimeSpan expiry = TimeSpan.MinValue;
    private TimeSpan? resyncSince;
    private TimeSpan lastTick = TimeSpan.MinValue;
    private bool lapseLogged;

    /// <summary>When the kernel lease ends unless refreshed.</summary>
    public TimeSpan Expiry => expiry;

    /// <summary>
    /// Whether this node announces its ready modules at <paramref name="now"/>: while it holds a lease, or lost it less
    /// than a detection timeout ago (a hiccup changes no view). Before its first lease, and after a lapse long enough for
    /// its peers to have removed it (a stall, a partition), it announces none: the view that admits it gives it nothing,
    /// and its share moves once it holds a lease again. The old owners stop taking new flows of a bucket when they promise
    /// the view that moves it; a new owner without a lease would leave the bucket dark until its peers confirmed it.
    /// </summary>
    public bool Announces(TimeSpan now) => now < expiry + options.DetectionTimeout; // before any lease: MinValue + D, never

    /// <summary>
    /// True when this node's heartbeats may be quiet (<see cref="MembershipOptions.QuietSpan"/>): under policies
    /// <c>none</c> and <c>witness</c> while it holds a lease that needs no resynchronization, when no rule reads its
    /// peers' answers. Never under <c>majority</c>, whose every refresh counts fresh answers.
    /// </summary>
    public bool AllowsQuietHeartbeats(TimeSpan now) =>
        options.SplitBrainPolicy != SplitBrainPolicy.Majority && now < expiry && resyncSince is null;

    /// <summary>What <paramref name="self"/> tells peers at <paramref name="now"/> (see <see cref="Announces"/>).</summary>
    public MemberInfo Announced(MemberInfo self, TimeSpan now) => Announces(now) ? self : self with { ReadyModules = [] };

    /// <summary>
    /// One tick: extends the lease by <see cref="MembershipOptions.Lease"/> when the policy allows it. True when this node
    /// announces its ready modules again from now on (<see cref="Announces"/>).
    /// </summary>
    public bool Refresh(TimeSpan now, ClusterView? installed, MemberInfo self, PeerMonitor peers)
    {
        bool announced = Announces(now);
        // A lapse starts a resynchronization; a new stall restarts it, so confirmations from before it do not count.
        bool lapsed = now >= expiry;
        bool stalled = lastTick != TimeSpan.MinValue && now - lastTick > options.Lease;
        lastTick = now;
        if ((lapsed && resyncSince is null) || stalled)
        {
            resyncSince = now;
        }

        bool member = installed is not null && installed.Contains(self);
        var window = now - options.FreshnessWindow;
        bool ok;
        if (options.SplitBrainPolicy == SplitBrainPolicy.Majority)
        {
            int fresh = 1 + peers.All.Count(p => p.ConfirmsSince(window));
            int total = options.ConfiguredNodes.Count;
            ok = member && fresh * 2 > total && installed!.Members.Length * 2 > total;
        }
        else
        {
            ok = member && (resyncSince is not { } since || Resynchronized(since, now, installed!, peers));
            if (options.SplitBrainPolicy == SplitBrainPolicy.Witness)
            {
                // Whoever held the witness before us stopped reaching it before our streak began, so its lease ends
                // within FreshnessWindow + Lease of that: wait that long into a new streak before serving.
                ok &= witness.HeldFor(options.FreshnessWindow + options.Lease, now);
            }
        }

        // Never past the moment the peers may stop counting this node alive: a node whose readers and writers do not run
        // keeps ticking (its heartbeat thread has real-time priority) but sends nothing.
        var until = now + options.Lease;
        if (peers.CountedAliveUntil(now) is { } alive && alive < until)
        {
            until = alive;
            ok &= until > now;
        }

        if (ok)
        {
            if (resyncSince is not null)
            {
                Log.LeaseResumed(logger, self.Name);
            }

            expiry = until > expiry ? until : expiry;
            resyncSince = null;
            lapseLogged = false;
        }
        else if (lapsed && !lapseLogged && expiry != TimeSpan.MinValue)
        {
            // Once per lapse, with what the rule saw: the evidence an operator (or a soak's reader) needs to tell a stall
            // of this node from peers that answered late or not at all.
            lapseLogged = true;
            Log.LeaseLapsed(logger, self.Name, (now - expiry).TotalMilliseconds, options.SplitBrainPolicy, member,
                Describe(now, peers));
        }

        return !announced && Announces(now);
    }

    /// <summary>Per peer: how long ago the newest round trip whose answer listed us started, and when it was last heard.</summary>
    private static string Describe(TimeSpan now, PeerMonitor peers) =>
        string.Join(", ", peers.All.Select(p =>
            $"{p.Name} listed us in a round trip started {Age(now, p.LastConfirmedRoundTripStart)} ago, heard {Age(now, p.LastHeard)} ago"));

    private static string Age(TimeSpan now, TimeSpan at) =>
        at == TimeSpan.MinValue ? "never" : $"{(now - at).TotalMilliseconds:F0} ms";

    /// <summary>
    /// After a lapse (stall, lost witness, start) we accept again only when every other member of our installed
    /// view, and every peer we heard since, confirmed by a round trip started after the lapse and within the
    /// freshness window that its views still list us: while we were out, any of them may have formed a view without
    /// us, and one stale peer's word is not enough. A dead member blocks this until the coordinator installs a view
    /// without it. Alone in our view, we also wait a whole detection timeout: silent peers are then on the other side
    /// of a partition.
    /// </summary>
    private bool Resynchronized(TimeSpan since, TimeSpan now, ClusterView installed, PeerMonitor peers)
    {
        // A confirmation also has to be fresh: a peer that confirmed us at ts refuses our removal only until ts + D.
        var fresh = now - options.FreshnessWindow > since ? now - options.FreshnessWindow : since;
        foreach (var peer in peers.All)
        {
            bool confirmed = peer.ConfirmsSince(fresh);
            bool heard = peer.LastHeard != TimeSpan.MinValue && peer.LastHeard >= since;
            bool member = installed.Find(peer.Name) is not null;
            if ((heard || member) && !confirmed)
            {
                return false;
            }
        }

        return installed.Members.Length > 1 || now - since >= options.DetectionTimeout;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Lease of {Node} resumed after a lapse")]
        public static partial void LeaseResumed(ILogger logger, string node);

        [LoggerMessage(EventId = 1009, Level = LogLevel.Information,
            Message = "Lease of {Node} lapsed {LateMs:F0} ms ago (policy {Policy}, member of the installed view: {Member}): {Peers}")]
        public static partial void LeaseLapsed(ILogger logger, string node, double lateMs, SplitBrainPolicy policy, bool member, string peers);
    }
}
