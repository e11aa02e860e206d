using System.Collections.Immutable;
using Farm.Core.Config;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Membership;

/// <summary>
/// This node as the coordinator: when it is the lowest-named reachable node that may coordinate, it proposes a view
/// with the members it wants (Prepare to each, through the local <see cref="ViewAcceptor"/> first), commits it once
/// every member acknowledged, and keeps nodes a member still hears (vouched for) until that member stops hearing them.
/// See docs/architecture.md ("Views").
/// </summary>
internal sealed partial class ViewCoordinator(
    MembershipOptions options,
    IReadOnlyList<ModuleSpec> modules,
    string selfName,
    PeerMonitor peers,
    WitnessMonitor witness,
    ViewAcceptor acceptor,
    RequestLedger requests,
    ILogger logger)
{
    private readonly Dictionary<string, (MemberInfo Info, TimeSpan Until)> vouched = new(StringComparer.Ordinal);

    /// <summary>Per peer: since when this node has heard it without a proof of life (see <see cref="AwaitsProof"/>).</summary>
    private readonly Dictionary<string, TimeSpan> unprovenSince = new(StringComparer.Ordinal);

    /// <summary>How soon a proposal is tried again when a member still hears a node this coordinator saw die.</summary>
    private static readonly TimeSpan GoneRetry = TimeSpan.FromMilliseconds(10);
    private Proposal? proposal;

    /// <summary>
    /// The lowest-named reachable node that may coordinate. Under policy witness a node that lost the witness steps
    /// aside, so the nodes that still reach it are not stuck behind a coordinator that may not propose.
    /// </summary>
    public string? CoordinatorName(TimeSpan now)
    {
        string? best = witness.Lost(now) ? null : selfName;
        foreach (var peer in peers.All)
        {
            if (peers.Reachable(peer, now) && !peer.WitnessLost && (best is null || string.CompareOrdinal(peer.Name, best) < 0))
            {
                best = peer.Name;
            }
        }

        return best;
    }

    /// <summary>Forgets the nodes vouched for whose time is up.</summary>
    public void ExpireVouches(TimeSpan now)
    {
        foreach (var name in vouched.Where(kv => kv.Value.Until <= now).Select(kv => kv.Key).ToList())
        {
            vouched.Remove(name);
        }
    }

    /// <summary>
    /// True while a peer that this node hears has not proven that it lived within the detection timeout
    /// (<see cref="PeerMonitor.Vouches"/>), for at most a detection timeout from when that was first seen: a new view then
    /// waits for the peer's next heartbeat, which echoes one of ours and says what the peer is now. After this process
    /// was stopped or stalled, the messages that waited in its sockets arrive in a burst and say what their senders were
    /// seconds ago: a coordinator that proposed on them gave a share of the buckets to a node whose lease had lapsed
    /// meanwhile (it announced its module ready in a message sent before its link went down) and the share stayed dark
    /// until the next view (chaos soak, 2026-12-05: 14 clients unanswered for 700 ms). A peer that really died stops
    /// being heard within the same detection timeout, so this delays no removal; a peer that is heard but never echoes
    /// (a one-way link) holds proposals for one detection timeout, then counts as today.
    /// </summary>
    private bool AwaitsProof(TimeSpan now)
    {
        bool waits = false;
        foreach (var peer in peers.All)
        {
            if (!peers.Reachable(peer, now) || peers.Vouches(peer, now))
            {
                unprovenSince.Remove(peer.Name);
                continue;
            }

            if (!unprovenSince.TryGetValue(peer.Name, out var since))
            {
                unprovenSince[peer.Name] = since = now;
                Log.AwaitingProof(logger, peer.Name, peer.LastProvenAlive == TimeSpan.MinValue ? -1 : (now - peer.LastProvenAlive).TotalMilliseconds);
            }

            waits |= now - since < options.DetectionTimeout;
        }

        return waits;
    }

    /// <summary>
    /// The view the next one derives from, and a reachable member that holds it (null: this node does): the highest
    /// installed view among the desired members, except that of views of the same epoch, the one most of them installed
    /// wins (then the highest id). Views of one epoch are concurrent, none derives from another (a view's epoch exceeds
    /// its base's): the two sides of a partition under policy none, or a node that formed a view alone. Built on the lone
    /// node's view, whose id may be the higher, the larger side would claim every bucket as after a rejoin, delete the
    /// conntrack entries of all it serves and reset its sessions; built on the larger side's, only the lone node does.
    /// A view of a higher epoch may derive from the others (the witness side's, its peers' leases lapsed): it stays first.
    /// </summary>
    private (ViewId? Id, string? Holder) ChooseBase(List<MemberInfo> desired, TimeSpan now)
    {
        var held = new Dictionary<ViewId, (int Count, string? Holder)>();
        if (acceptor.Installed?.Id is { } own)
        {
            held[own] = (1, null);
        }

        foreach (var member in desired)
        {
            if (peers.Find(member.Name) is { } peer && peers.Reachable(peer, now) && peer.Installed is { } id)
            {
                var (count, holder) = held.GetValueOrDefault(id);
                held[id] = (count + 1, holder ?? (id == acceptor.Installed?.Id ? null : peer.Name));
            }
        }

        if (held.Count == 0)
        {
            return (null, null);
        }

        var best = held
            .OrderByDescending(h => h.Key.Epoch)
            .ThenByDescending(h => h.Value.Count)
            .ThenByDescending(h => h.Key)
            .First();
        return (best.Key, best.Value.Holder);
    }

    private List<MemberInfo> DesiredMembers(MemberInfo self, TimeSpan now)
    {
        var members = new List<MemberInfo> { self };
        foreach (var peer in peers.All)
        {
            if (peers.Reachable(peer, now))
            {
                members.Add(peer.Info!);
            }
            else if (vouched.TryGetValue(peer.Name, out var v) && v.Until > now)
            {
                members.Add(v.Info); // we do not hear it, but a member does: it is alive, keep it
            }
        }

        members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return members;
    }

    /// <summary>
    /// How long a node without a view listens before it forms one: <see cref="MembershipOptions.StartupGrace"/>, or up to
    /// <see cref="MembershipOptions.StartupGraceLimit"/> while a peer that made contact (<see cref="MembershipManager.NoteContact"/>) is
    /// not heard yet. A node that starts on a loaded machine may need longer than the grace to complete its first
    /// exchanges (a stalled newcomer once heard nobody for 2 s while its connections were open); forming a farm alone
    /// then splits a running one. A peer whose port refuses connections makes no contact: a lone node still starts
    /// after the grace.
    /// </summary>
    private TimeSpan StartupGrace(TimeSpan now) =>
        peers.All.Any(p => p.Contacted && !peers.Reachable(p, now)) ? options.StartupGraceLimit : options.StartupGrace;

    private bool MayPropose(TimeSpan? firstTick, TimeSpan now, List<MemberInfo> desired)
    {
        // The grace counts from the first tick, not from construction: the host may take seconds (data plane
        // setup) before it starts sending heartbeats, and listening only begins then.
        if (acceptor.Installed is null && (firstTick is not { } first || now - first < StartupGrace(now)) &&
            !peers.All.Any(p => peers.Reachable(p, now) && p.Installed is not null))
        {
            return false; // listen first: join a running farm rather than split it
        }

        if (!InWinningConfigGroup(now))
        {
            return false; // peers with another cluster file run (or outnumber) us: stay out, status says why
        }

        return options.SplitBrainPolicy switch
        {
            SplitBrainPolicy.Majority => desired.Count * 2 > options.ConfiguredNodes.Count,
            // Holding the witness for a whole detection timeout means the other side lost it at least that long
            // ago (the policy's premise: one side at a time), so its leases have lapsed before we take its buckets.
            SplitBrainPolicy.Witness => witness.HeldFor(options.DetectionTimeout, now),
            _ => true,
        };
    }

    /// <summary>
    /// Nodes that hear each other but disagree on the cluster file form groups by config hash. Only one group may
    /// form views, so a node restarted with a different file never starts a second farm beside the running one:
    /// a group already running a view wins, then the larger group, then the group with the lowest node name.
    /// </summary>
    private bool InWinningConfigGroup(TimeSpan now)
    {
        var groups = new Dictionary<string, (bool Running, int Count, string Lowest)>(StringComparer.Ordinal)
        {
            [peers.ConfigHash] = (acceptor.Installed is not null, 1, selfName),
        };
        foreach (var peer in peers.All)
        {
            if (peer.ConfigHash is not { } hash || !PeerMonitor.Within(peer.LastHeardAny, now, options.DetectionTimeout))
            {
                continue;
            }

            var g = groups.GetValueOrDefault(hash, (Running: false, Count: 0, Lowest: peer.Name));
            groups[hash] = (g.Running || peer.InstalledAny is not null, g.Count + 1,
                string.CompareOrdinal(peer.Name, g.Lowest) < 0 ? peer.Name : g.Lowest);
        }

        if (groups.Count == 1)
        {
            return true;
        }

        var winner = groups
            .OrderByDescending(kv => kv.Value.Running)
            .ThenByDescending(kv => kv.Value.Count)
            .ThenBy(kv => kv.Value.Lowest, StringComparer.Ordinal)
            .First();
        return winner.Key == peers.ConfigHash;
    }

    /// <summary>
    /// The coordinator's work at <paramref name="now"/>: nothing unless this node coordinates; else (re)sends the
    /// proposal under way (<paramref name="resend"/>) while its members are still the ones wanted, or proposes a new view
    /// when the installed one is not settled. <paramref name="firstTick"/>: when this node began to listen (null: not yet).
    /// </summary>
    public void Step(MemberInfo self, TimeSpan? firstTick, TimeSpan now, bool resend)
    {
        if (CoordinatorName(now) != selfName)
        {
            proposal = null;
            return;
        }

        var desired = DesiredMembers(self, now);
        if (proposal is { } current)
        {
            // A proposal under way is finished while it lists the runs wanted, even when what a member says about itself
            // changed meanwhile (readiness, weight, leaving): the next view carries that. Dropping it would leave its
            // promises in place (members keep its releases until a newer view supersedes it) and, with announcements that
            // change faster than a round trip (a flapping checker, a lease lapsing on a stalled machine), no view would
            // ever commit: the chaos soak saw 18 proposals in a row dropped and buckets without an acceptor for 6 s.
            if (current.View.HasRuns(desired) && now - current.Started < options.ProposalTimeout)
            {
                if (resend)
                {
                    SendPrepares(current, now);
                }

                return;
            }

            proposal = null;
        }

        // Nothing to do when our view already has the right members and no member moved on to a newer view
        // (one that left us out while we were stalled or partitioned: then we must merge).
        // A promise that never committed (its coordinator lost the majority or died) also needs a new view:
        // promised members keep its releases and deny leases to the runs it leaves out until it is superseded.
        bool nobodyAhead = desired.All(d => d.Name == selfName ||
            (ViewId.Compare(peers.Find(d.Name)!.Installed, acceptor.Installed?.Id) <= 0 && ViewId.Compare(peers.Find(d.Name)!.Promised, acceptor.Installed?.Id) <= 0));
        bool settled = acceptor.Installed is not null && acceptor.Installed.HasMembers(desired) && nobodyAhead && ViewId.Compare(acceptor.Promised?.Id, acceptor.Installed.Id) <= 0;
        if (settled || !MayPropose(firstTick, now, desired) || AwaitsProof(now))
        {
            return;
        }

        var (baseId, holder) = ChooseBase(desired, now);

        ClusterView? baseView = acceptor.Installed;
        if (holder is not null)
        {
            if (acceptor.Fetched?.Id != baseId)
            {
                acceptor.RequestView(holder, now);
                return;
            }

            baseView = acceptor.Fetched;
        }

        long epoch = acceptor.NextEpoch;
        var tables = ClusterView.ComputeTables(baseView?.Tables, desired, modules, epoch);
        var view = new ClusterView(new ViewId(epoch, selfName, self.Incarnation), desired, tables);
        var removed = baseView is null
            ? ImmutableArray<MemberInfo>.Empty
            : [.. baseView.Members.Where(m => !desired.Any(d => d.IsSameRun(m)))];
        var next = new Proposal(view, baseView, removed, now);

        // Tables travel only to members that do not hold the base view (a newcomer, the other side of a healed
        // partition); the others compute them from the base: only epoch and membership travel.
        foreach (var member in desired)
        {
            if (member.Name != selfName && peers.Find(member.Name)!.Installed != baseView?.Id)
            {
                next.NeedsBase.Add(member.Name);
            }
        }

        var own = acceptor.OnPrepare(next.ToRequest(forceBase: false), now);
        if (own is not PrepareReply { Accepted: true })
        {
            return;
        }

        proposal = next;
        next.Acks.Add(selfName);
        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.Proposing(logger, view.Id, string.Join(", ", desired), removed.Length);
        }
        if (next.Acks.Count == desired.Count)
        {
            Commit(next, now);
        }
        else
        {
            SendPrepares(next, now);
        }
    }

    private void SendPrepares(Proposal p, TimeSpan now)
    {
        foreach (var member in p.View.Members)
        {
            if (!p.Acks.Contains(member.Name))
            {
                requests.Send(member.Name, peers.BestLan(member.Name), p.ToRequest(p.NeedsBase.Contains(member.Name)), now);
            }
        }
    }

    /// <summary>A member answered a Prepare: an ack may complete the proposal; a refusal names what it needs or whom it still hears.</summary>
    public void OnPrepareReply(string from, PrepareReply reply, TimeSpan now)
    {
        if (proposal is not { } p || reply.Id != p.View.Id)
        {
            return;
        }

        if (reply.Accepted)
        {
            p.Acks.Add(from);
            if (p.Acks.Count == p.View.Members.Length)
            {
                Commit(p, now);
            }

            return;
        }

        if (reply.NeedsBase)
        {
            p.NeedsBase.Add(from);
            requests.Send(from, peers.BestLan(from), p.ToRequest(forceBase: true), now);
            return;
        }

        for (int i = 0; i < reply.StillHeard.Length; i++)
        {
            var info = reply.StillHeard[i];
            if (!vouched.TryGetValue(info.Name, out var known) || known.Info.Incarnation <= info.Incarnation)
            {
                // Keep the node exactly until that member would stop hearing it (it says how long), then try again:
                // a dead node's removal is late only by the gap between its last messages to us and to that member.
                var remaining = !reply.StillHeardFor.IsDefault && i < reply.StillHeardFor.Length ? reply.StillHeardFor[i] : options.HeartbeatInterval;

                // A node this coordinator saw die (the crash fast path) dies for the other members too, within a round
                // trip of each other: try again soon rather than when that member's detection timeout would end.
                if (peers.Find(info.Name) is { Gone: true } && remaining > GoneRetry)
                {
                    remaining = GoneRetry;
                }

                vouched[info.Name] = (info, now + TimeSpan.FromTicks(Math.Clamp(remaining.Ticks, TimeSpan.FromMilliseconds(1).Ticks, options.DetectionTimeout.Ticks)));
            }
        }

        Log.ProposalRejected(logger, p.View.Id, from, reply.Reason ?? "");
        proposal = null;
    }

    private void Commit(Proposal p, TimeSpan now)
    {
        proposal = null;
        if (!acceptor.CommitOwn(p.View.Id, now))
        {
            return; // we promised a newer view meanwhile: this one must not commit
        }

        foreach (var member in p.View.Members)
        {
            if (member.Name != selfName)
            {
                requests.Send(member.Name, peers.BestLan(member.Name), new CommitRequest(p.View.Id), now);
            }
        }
    }

    private sealed class Proposal(ClusterView view, ClusterView? baseView, ImmutableArray<MemberInfo> removed, TimeSpan started)
    {
        public ClusterView View { get; } = view;

        public TimeSpan Started { get; } = started;

        public HashSet<string> Acks { get; } = new(StringComparer.Ordinal);

        public HashSet<string> NeedsBase { get; } = new(StringComparer.Ordinal);

        public PrepareRequest ToRequest(bool forceBase) => new(
            View.Id,
            View.Members,
            baseView?.Id,
            removed,
            View.TablesFingerprint,
            forceBase && baseView is not null ? baseView.Tables : null);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Proposing view {View} with members {Members} ({Removed} removed)")]
        public static partial void Proposing(ILogger logger, ViewId view, string members, int removed);

        [LoggerMessage(EventId = 1010, Level = LogLevel.Debug,
            Message = "A new view waits for {Node}: heard, but its last proof of life is {ProvenAgoMs:F0} ms old (-1: none yet)")]
        public static partial void AwaitingProof(ILogger logger, string node, double provenAgoMs);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Proposal {View} rejected by {Node}: {Reason}")]
        public static partial void ProposalRejected(ILogger logger, ViewId view, string node, string reason);
    }
}
