using System.Collections.Immutable;
using Farm.Core.Buckets;
using Farm.Core.Config;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Farm.Cluster.Membership;

/// <summary>
/// The membership protocol of one node, without I/O: time is passed in, requests come out of
/// <see cref="TakeOutbox"/> and answers go back through <see cref="HandleReply"/> / <see cref="HandleFailure"/>.
/// The same code runs in the virtual-time simulation and in farmd. Not thread-safe: the host serializes calls.
/// See docs/architecture.md ("Membership protocol") for the rules and why they are safe.
/// </summary>
public sealed partial class MembershipManager
{
    private readonly MembershipOptions options;
    private readonly IReadOnlyList<ModuleSpec> modules;
    private readonly string configHash;
    private readonly ILogger logger;
    private readonly Dictionary<string, PeerState> peers = new(StringComparer.Ordinal);
    private readonly List<OutboundRequest> outbox = [];
    private readonly Dictionary<long, PendingRequest> pending = [];
    private readonly Dictionary<string, (MemberInfo Info, TimeSpan Until)> vouched = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> releasedSinceInstall = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, Claim>> claims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, TimeSpan>> drainingUntil = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, DrainStart>> drainStarts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModuleSpec> specs = new(StringComparer.Ordinal);

    private MemberInfo self;
    private ClusterView? installed;
    private ClusterView? promised;
    private bool promisedFromScratch;
    private ViewId? promisedBase;
    private ClusterView? baseCache;
    private Proposal? proposal;
    private long nextCorrelation;
    private long maxEpochSeen;
    private long snapshotVersion;
    private bool getViewOutstanding;
    private TimeSpan leaseExpiry = TimeSpan.MinValue;
    private TimeSpan? resyncSince;
    private TimeSpan lastTick = TimeSpan.MinValue;
    private TimeSpan? firstTick;
    private TimeSpan witnessReachedAt = TimeSpan.MinValue;
    private TimeSpan witnessStreakStart = TimeSpan.MinValue;
    private DrainReport published = DrainReport.None;

    /// <summary>Creates the protocol state of node <paramref name="self"/>, started at <paramref name="now"/>.</summary>
    public MembershipManager(
        MembershipOptions options, MemberInfo self, string configHash, IReadOnlyList<ModuleSpec> modules, TimeSpan now, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(modules);
        options.Validate();
        this.options = options;
        this.self = self;
        this.configHash = configHash;
        this.modules = modules;
        this.logger = logger ?? NullLogger.Instance;
        foreach (var name in options.ConfiguredNodes)
        {
            if (!string.Equals(name, self.Name, StringComparison.Ordinal))
            {
                peers[name] = new PeerState(name, options.LanCount);
            }
        }

        foreach (var module in modules)
        {
            releasedSinceInstall[module.Name] = [];
            claims[module.Name] = [];
            drainingUntil[module.Name] = [];
            drainStarts[module.Name] = [];
            specs[module.Name] = module;
        }

        SetOwnership(BuildOwnership(now), now);
    }

    /// <summary>This node as it describes itself.</summary>
    public MemberInfo Self => self;

    /// <summary>The installed (committed) view, or null before the first.</summary>
    public ClusterView? Installed => installed;

    /// <summary>The view this node promised in phase 1 and not yet installed, or null.</summary>
    public ClusterView? Promised => promised;

    /// <summary>Bucket states for the data plane. Replaced whole on every change.</summary>
    public OwnershipSnapshot Ownership { get; private set; }

    /// <summary>When the kernel lease ends unless refreshed (the data plane mirrors it).</summary>
    public TimeSpan LeaseExpiry => leaseExpiry;

    /// <summary>True when this node is currently the coordinator from its own point of view.</summary>
    public bool IsCoordinator(TimeSpan now) => CoordinatorName(now) == self.Name;

    /// <summary>Peers whose config hash differs from ours, with their hash (for status).</summary>
    public IReadOnlyDictionary<string, string> ConfigMismatches =>
        peers.Values.Where(p => p.ConfigHash is not null && p.ConfigHash != configHash)
            .ToDictionary(p => p.Name, p => p.ConfigHash!, StringComparer.Ordinal);

    /// <summary>A snapshot of every peer, in name order, for status.</summary>
    public ImmutableArray<PeerStatus> PeerStatuses(TimeSpan now)
    {
        static TimeSpan? Seen(TimeSpan t) => t == TimeSpan.MinValue ? null : t;
        return [.. peers.Values
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => new PeerStatus(
                p.Name,
                p.Info,
                Reachable(p, now),
                p.ConfigHash,
                p.ConfigHash == configHash,
                Seen(p.LastHeard),
                Seen(p.LastHeardAny),
                [.. p.LastHeardPerLan.Select(Seen)],
                p.Installed ?? p.InstalledAny,
                p.Promised,
                p.DrainStatuses))];
    }

    /// <summary>This node's hand-over progress per module (buckets taken over, buckets draining, oldest drain's age).</summary>
    public ImmutableArray<ModuleDrainStatus> DrainStatuses(TimeSpan now) =>
        [.. Ownership.Modules.Values.Select(m => new ModuleDrainStatus(m.Module, m.Incoming, m.Draining, OldestDrainAge(m.Module, now)))];

    /// <summary>
    /// The host applied <paramref name="applied"/> to the data plane and then looked at the connections it tracks:
    /// <paramref name="scans"/> says, per module, which of the snapshot's draining buckets still hold live connections
    /// (a module without a scan counts as all busy). Drains of the installed view that are idle end now (the bucket is
    /// dropped here), and the heartbeats tell the peers at once, so the new owners take the buckets over completely.
    /// </summary>
    public void ReportDrains(OwnershipSnapshot applied, IReadOnlyDictionary<string, ModuleDrainScan> scans, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(applied);
        ArgumentNullException.ThrowIfNull(scans);
        bool ended = false;
        var parts = ImmutableArray.CreateBuilder<ModuleDrainReport>();
        foreach (var (name, states) in applied.Modules)
        {
            if (!drainingUntil.TryGetValue(name, out var draining))
            {
                continue;
            }

            var scan = scans.GetValueOrDefault(name);
            var starts = drainStarts[name];
            var still = ImmutableArray.CreateBuilder<int>();
            for (int b = 0; b < states.States.Length; b++)
            {
                if (states[b] != BucketState.Draining)
                {
                    continue;
                }

                // Only a drain that began no later than the applied snapshot: its bucket took no new flow since.
                bool idle = scan is not null && !scan.Busy.Contains(b);
                if (idle && draining.ContainsKey(b) && starts.TryGetValue(b, out var start) && start.Version <= applied.Version)
                {
                    draining.Remove(b);
                    ended = true;
                    continue;
                }

                still.Add(b);
            }

            var flows = scan?.Flows ?? [];
            if (still.Count > 0 || !flows.IsEmpty || states.Incoming > 0)
            {
                parts.Add(new ModuleDrainReport(name, still.ToImmutable(), flows, states.Incoming, null));
            }
        }

        if (ended)
        {
            SetOwnership(BuildOwnership(now), now);
        }

        Publish(new DrainReport(applied.Reflects, parts.ToImmutable()), now);
    }

    /// <summary>True when a peer is reachable and admitted now.</summary>
    public bool IsReachable(string name, TimeSpan now) => peers.TryGetValue(name, out var p) && Reachable(p, now);

    /// <summary>When the peer was last heard on a LAN, or null.</summary>
    public TimeSpan? LastHeard(string name, int lan) =>
        peers.TryGetValue(name, out var p) && p.LastHeardPerLan[lan] != TimeSpan.MinValue ? p.LastHeardPerLan[lan] : null;

    /// <summary>True when this node may accept new flows of a bucket at <paramref name="now"/> (lease and state).</summary>
    public bool AcceptsNewFlows(string module, int bucket, TimeSpan now) =>
        now < leaseExpiry && Ownership.AcceptsNewFlows(module, bucket);

    /// <summary>Requests to send, in order; the caller owns the list.</summary>
    public IReadOnlyList<OutboundRequest> TakeOutbox()
    {
        if (outbox.Count == 0)
        {
            return []; // the common case: the host polls every few milliseconds
        }

        var result = outbox.ToArray();
        outbox.Clear();
        return result;
    }

    /// <summary>Changes what this node says about itself (weight, ready modules, leaving); the coordinator reacts.</summary>
    public void UpdateSelf(MemberInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (!info.IsSameRun(self))
        {
            throw new ArgumentException("A node cannot change its name or incarnation.", nameof(info));
        }

        self = info;
    }

    /// <summary>Reports that the split-brain witness answered a probe sent at <paramref name="probeStart"/>.</summary>
    public void ReportWitnessReached(TimeSpan probeStart)
    {
        if (probeStart <= witnessReachedAt)
        {
            return;
        }

        if (witnessReachedAt == TimeSpan.MinValue || probeStart - witnessReachedAt > options.FreshnessWindow)
        {
            witnessStreakStart = probeStart; // the witness was lost in between: a new streak begins
        }

        witnessReachedAt = probeStart;
    }

    /// <summary>One heartbeat tick: heartbeats out, timeouts, coordinator work, catch-up, lease refresh.</summary>
    public void Tick(TimeSpan now)
    {
        firstTick ??= now;
        ExpirePending(now);
        ExpireTimedStates(now);
        SendHeartbeats(now);
        CoordinatorStep(now);
        CatchUp(now);
        RefreshLease(now);
    }

    /// <summary>
    /// Between heartbeat ticks: lets the coordinator start (or restart, when the members it sees changed) a view change
    /// as soon as a peer's detection timeout has passed instead of at the next tick (up to one interval later). Sends
    /// no heartbeats and never resends; cheap enough to call every few milliseconds.
    /// </summary>
    public void Poll(TimeSpan now) => CoordinatorStep(now, resend: false);

    /// <summary>Answers a request from an authenticated peer.</summary>
    public MembershipMessage HandleRequest(string from, int lan, MembershipMessage request, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!peers.TryGetValue(from, out var peer))
        {
            throw new ArgumentException($"'{from}' is not a member of the cluster file.", nameof(from));
        }

        switch (request)
        {
            case HeartbeatRequest hb:
                NotePeer(peer, hb.Sender, hb.ConfigHash, hb.Installed, hb.Promised, hb.WitnessLost, hb.Drains, lan, now);
                return new HeartbeatReply(self, configHash, installed?.Id, promised?.Id, IncludesRun(hb.Sender), WitnessLost(now), CurrentDrainReport(now));
            case PrepareRequest prepare:
                NoteHeard(peer, lan, now);
                return OnPrepare(prepare, now);
            case CommitRequest commit:
                NoteHeard(peer, lan, now);
                return OnCommit(commit, now);
            case GetViewRequest:
                NoteHeard(peer, lan, now);
                return new GetViewReply(installed);
            default:
                throw new ArgumentException($"Unexpected request {request.GetType().Name}.", nameof(request));
        }
    }

    /// <summary>Delivers the answer to a request taken from the outbox.</summary>
    public void HandleReply(long correlationId, MembershipMessage reply, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (!pending.Remove(correlationId, out var request) || !peers.TryGetValue(request.To, out var peer))
        {
            return; // late answer to an expired request
        }

        switch (reply)
        {
            case HeartbeatReply hb:
                NotePeer(peer, hb.Sender, hb.ConfigHash, hb.Installed, hb.Promised, hb.WitnessLost, hb.Drains, request.Lan, now);
                if (peer.Admitted(configHash))
                {
                    if (hb.IncludesYou && request.SentAt > peer.LastIncludingRoundTripStart)
                    {
                        peer.LastIncludingRoundTripStart = request.SentAt;
                    }
                    else if (!hb.IncludesYou && request.SentAt > peer.LastExcludingRoundTripStart)
                    {
                        peer.LastExcludingRoundTripStart = request.SentAt;
                    }
                }

                break;
            case PrepareReply pr:
                NoteHeard(peer, request.Lan, now);
                OnPrepareReply(peer.Name, pr, now);
                break;
            case CommitReply:
                NoteHeard(peer, request.Lan, now);
                break;
            case GetViewReply gv:
                NoteHeard(peer, request.Lan, now);
                getViewOutstanding = false;
                OnViewFetched(gv.View, now);
                break;
        }
    }

    /// <summary>Reports that a request failed (timeout, connection refused...).</summary>
    public void HandleFailure(long correlationId, TimeSpan now)
    {
        _ = now;
        if (pending.Remove(correlationId, out var request) && request.Message is GetViewRequest)
        {
            getViewOutstanding = false;
        }
    }

    /// <summary>True when <paramref name="last"/> (MinValue = never) lies within <paramref name="window"/> before <paramref name="now"/>.</summary>
    private static bool Within(TimeSpan last, TimeSpan now, TimeSpan window) => last != TimeSpan.MinValue && now - last < window;

    private bool IncludesRun(MemberInfo run) =>
        installed is not null && installed.Contains(run) && (promised is null || promised.Contains(run));

    private bool Reachable(PeerState peer, TimeSpan now) =>
        peer.Info is not null && peer.Admitted(configHash) && Within(peer.LastHeard, now, options.DetectionTimeout);

    /// <summary>Under policy witness, true when this node has not reached the witness within the freshness window.</summary>
    private bool WitnessLost(TimeSpan now) =>
        options.SplitBrainPolicy == SplitBrainPolicy.Witness && witnessReachedAt < now - options.FreshnessWindow;

    /// <summary>
    /// The lowest-named reachable node that may coordinate. Under policy witness a node that lost the witness steps
    /// aside, so the nodes that still reach it are not stuck behind a coordinator that may not propose.
    /// </summary>
    private string? CoordinatorName(TimeSpan now)
    {
        string? best = WitnessLost(now) ? null : self.Name;
        foreach (var peer in peers.Values)
        {
            if (Reachable(peer, now) && !peer.WitnessLost && (best is null || string.CompareOrdinal(peer.Name, best) < 0))
            {
                best = peer.Name;
            }
        }

        return best;
    }

    private void NoteHeard(PeerState peer, int lan, TimeSpan now)
    {
        if (peer.Info is not null && peer.Admitted(configHash))
        {
            peer.LastHeard = now;
            peer.LastHeardPerLan[lan] = now;
        }
    }

    /// <summary>Records what a heartbeat (request or reply) says about its sender.</summary>
    private void NotePeer(
        PeerState peer, MemberInfo info, string hash, ViewId? peerInstalled, ViewId? peerPromised, bool witnessLost, DrainReport? drains, int lan, TimeSpan now)
    {
        peer.WitnessLost = witnessLost;
        if (!string.Equals(info.Name, peer.Name, StringComparison.Ordinal))
        {
            return; // the transport authenticated another name than the message carries: ignore
        }

        if (peer.Info is not null && info.Incarnation < peer.Info.Incarnation)
        {
            return; // a message from a previous run of that node
        }

        peer.LastHeardAny = now;
        peer.InstalledAny = peerInstalled;
        if (hash != configHash)
        {
            if (peer.ConfigHash != hash)
            {
                Log.ConfigMismatch(logger, peer.Name, hash, configHash);
            }

            peer.ConfigHash = hash;
            return;
        }

        peer.ConfigHash = hash;
        peer.Info = info;
        NoteHeard(peer, lan, now);
        peer.Installed = peerInstalled;
        peer.Promised = peerPromised;
        maxEpochSeen = Math.Max(maxEpochSeen, Math.Max(peerInstalled?.Epoch ?? 0, peerPromised?.Epoch ?? 0));
        // Messages can arrive out of order: a report older than the one held (by the view it reflects) is stale.
        if (drains is null || ViewId.Compare(drains.Reflects, peer.Drains?.Reflects) < 0)
        {
            return;
        }

        // A report lists only modules with something moving: the others are settled on that peer. Ages change with
        // every heartbeat, so the status copy is refreshed each time.
        peer.DrainStatuses = [.. modules.Select(m => drains.Find(m.Name) is { } part
            ? new ModuleDrainStatus(m.Name, part.Incoming, part.Draining.Length, part.OldestDrainAge)
            : new ModuleDrainStatus(m.Name, 0, 0, null))];
        if (!drains.Equals(peer.Drains))
        {
            peer.Drains = drains;
            ResolveClaims();
            Rebuild(now); // a take-over may have completed, or the buckets and flows not to answer changed
        }
    }

    private void Send(string to, int lan, MembershipMessage message, TimeSpan now)
    {
        long id = ++nextCorrelation;
        pending[id] = new PendingRequest(to, lan, now, message);
        outbox.Add(new OutboundRequest(id, to, lan, message));
    }

    private void ExpirePending(TimeSpan now)
    {
        List<long>? expired = null;
        foreach (var (id, request) in pending)
        {
            if (now - request.SentAt >= options.DetectionTimeout)
            {
                (expired ??= []).Add(id);
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (long id in expired)
        {
            HandleFailure(id, now);
        }
    }

    private void ExpireTimedStates(TimeSpan now)
    {
        bool changed = false;
        foreach (var map in drainingUntil.Values)
        {
            foreach (var bucket in map.Where(kv => kv.Value <= now).Select(kv => kv.Key).ToList())
            {
                map.Remove(bucket); // drain timeout: whatever the bucket still tracks is dropped here
                changed = true;
            }
        }

        foreach (var map in claims.Values)
        {
            foreach (var bucket in map.Where(kv => kv.Value.Until <= now).Select(kv => kv.Key).ToList())
            {
                map.Remove(bucket); // no report came (or the drain timed out): the bucket is fully ours
                changed = true;
            }
        }

        changed |= ResolveClaims(); // a member restarted meanwhile: its old run drains nothing

        foreach (var name in vouched.Where(kv => kv.Value.Until <= now).Select(kv => kv.Key).ToList())
        {
            vouched.Remove(name);
        }

        if (changed)
        {
            SetOwnership(BuildOwnership(now), now);
        }
    }

    // ---- coordinator ------------------------------------------------------------------------

    private List<MemberInfo> DesiredMembers(TimeSpan now)
    {
        var members = new List<MemberInfo> { self };
        foreach (var peer in peers.Values)
        {
            if (Reachable(peer, now))
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
    /// <see cref="MembershipOptions.StartupGraceLimit"/> while a peer that made contact (<see cref="NoteContact"/>) is
    /// not heard yet. A node that starts on a loaded machine may need longer than the grace to complete its first
    /// exchanges (a stalled newcomer once heard nobody for 2 s while its connections were open); forming a farm alone
    /// then splits a running one. A peer whose port refuses connections makes no contact: a lone node still starts
    /// after the grace.
    /// </summary>
    private TimeSpan StartupGrace(TimeSpan now) =>
        peers.Values.Any(p => p.Contacted && !Reachable(p, now)) ? options.StartupGraceLimit : options.StartupGrace;

    /// <summary>
    /// The transport has signs of life from <paramref name="name"/> that are not messages yet: a TCP connection to its
    /// port opened, or an authenticated first contact (sealed before either side knew the other's run) came or went.
    /// A starting node then waits for that node (see <see cref="StartupGrace(TimeSpan)"/>).
    /// </summary>
    public void NoteContact(string name)
    {
        if (peers.TryGetValue(name, out var peer))
        {
            peer.Contacted = true;
        }
    }

    private bool MayPropose(TimeSpan now, List<MemberInfo> desired)
    {
        // The grace counts from the first tick, not from construction: the host may take seconds (data plane
        // setup) before it starts sending heartbeats, and listening only begins then.
        if (installed is null && (firstTick is not { } first || now - first < StartupGrace(now)) &&
            !peers.Values.Any(p => Reachable(p, now) && p.Installed is not null))
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
            SplitBrainPolicy.Witness => !WitnessLost(now) && now - witnessStreakStart >= options.DetectionTimeout,
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
            [configHash] = (installed is not null, 1, self.Name),
        };
        foreach (var peer in peers.Values)
        {
            if (peer.ConfigHash is not { } hash || !Within(peer.LastHeardAny, now, options.DetectionTimeout))
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
        return winner.Key == configHash;
    }

    private void CoordinatorStep(TimeSpan now, bool resend = true)
    {
        if (!IsCoordinator(now))
        {
            proposal = null;
            return;
        }

        var desired = DesiredMembers(now);
        if (proposal is { } current)
        {
            if (current.View.HasMembers(desired) && now - current.Started < options.ProposalTimeout)
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
        bool nobodyAhead = desired.All(d => d.Name == self.Name ||
            (ViewId.Compare(peers[d.Name].Installed, installed?.Id) <= 0 && ViewId.Compare(peers[d.Name].Promised, installed?.Id) <= 0));
        bool settled = installed is not null && installed.HasMembers(desired) && nobodyAhead && ViewId.Compare(promised?.Id, installed.Id) <= 0;
        if (settled || !MayPropose(now, desired))
        {
            return;
        }

        // Base: the highest installed view among the desired members; fetch it if we do not hold it.
        ViewId? baseId = installed?.Id;
        string? holder = null;
        foreach (var member in desired)
        {
            if (peers.TryGetValue(member.Name, out var peer) && Reachable(peer, now) && ViewId.Compare(peer.Installed, baseId) > 0)
            {
                baseId = peer.Installed;
                holder = peer.Name;
            }
        }

        ClusterView? baseView = installed;
        if (holder is not null)
        {
            if (baseCache?.Id != baseId)
            {
                RequestView(holder, now);
                return;
            }

            baseView = baseCache;
        }

        long epoch = Math.Max(maxEpochSeen, Math.Max(installed?.Id.Epoch ?? 0, promised?.Id.Epoch ?? 0)) + 1;
        var tables = ClusterView.ComputeTables(baseView?.Tables, desired, modules, epoch);
        var view = new ClusterView(new ViewId(epoch, self.Name, self.Incarnation), desired, tables);
        var removed = baseView is null
            ? ImmutableArray<MemberInfo>.Empty
            : [.. baseView.Members.Where(m => !desired.Any(d => d.IsSameRun(m)))];
        var next = new Proposal(view, baseView, removed, now);

        // Tables travel only to members that do not hold the base view (a newcomer, the other side of a healed
        // partition); the others compute them from the base: only epoch and membership travel.
        foreach (var member in desired)
        {
            if (member.Name != self.Name && peers[member.Name].Installed != baseView?.Id)
            {
                next.NeedsBase.Add(member.Name);
            }
        }

        var own = OnPrepare(next.ToRequest(forceBase: false), now);
        if (own is not PrepareReply { Accepted: true })
        {
            return;
        }

        proposal = next;
        next.Acks.Add(self.Name);
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
                Send(member.Name, BestLan(member.Name), p.ToRequest(p.NeedsBase.Contains(member.Name)), now);
            }
        }
    }

    private void OnPrepareReply(string from, PrepareReply reply, TimeSpan now)
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
            Send(from, BestLan(from), p.ToRequest(forceBase: true), now);
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
                vouched[info.Name] = (info, now + TimeSpan.FromTicks(Math.Clamp(remaining.Ticks, TimeSpan.FromMilliseconds(1).Ticks, options.DetectionTimeout.Ticks)));
            }
        }

        Log.ProposalRejected(logger, p.View.Id, from, reply.Reason ?? "");
        proposal = null;
    }

    private void Commit(Proposal p, TimeSpan now)
    {
        proposal = null;
        if (promised?.Id != p.View.Id)
        {
            return; // we promised a newer view meanwhile: this one must not commit
        }

        Install(promised, now, fromScratch: promisedFromScratch, baseId: promisedBase);
        foreach (var member in p.View.Members)
        {
            if (member.Name != self.Name)
            {
                Send(member.Name, BestLan(member.Name), new CommitRequest(p.View.Id), now);
            }
        }
    }

    private int BestLan(string peerName)
    {
        if (!peers.TryGetValue(peerName, out var peer))
        {
            return 0;
        }

        int best = 0;
        for (int lan = 1; lan < options.LanCount; lan++)
        {
            if (peer.LastHeardPerLan[lan] > peer.LastHeardPerLan[best])
            {
                best = lan;
            }
        }

        return best;
    }

    // ---- member -----------------------------------------------------------------------------

    private PrepareReply OnPrepare(PrepareRequest request, TimeSpan now)
    {
        PrepareReply Reject(string reason, bool needsBase = false, ImmutableArray<MemberInfo> stillHeard = default) =>
            new(request.Id, false, reason, needsBase, stillHeard.IsDefault ? [] : stillHeard,
                stillHeard.IsDefault ? [] : [.. stillHeard.Select(m => peers[m.Name].LastHeard + options.DetectionTimeout - now)]);

        if (!request.Members.Any(m => m.IsSameRun(self)))
        {
            return Reject($"{self.Name}#{self.Incarnation} is not in the proposed view");
        }

        if (promised is { } p && request.Id <= p.Id)
        {
            return request.Id == p.Id ? new PrepareReply(request.Id, true, null, false, []) : Reject($"already promised {p.Id}");
        }

        if (installed is { } i && request.Id <= i.Id)
        {
            return Reject($"already installed {i.Id}");
        }

        // Every node we hear must be in the view: a live node left out would keep serving the buckets the view
        // gives away. This also covers the runs the coordinator removes (we must not have heard them for the
        // detection timeout), and nodes of our own older views that the coordinator does not know about.
        var stillHeard = peers.Values
            .Where(p => Reachable(p, now) && !request.Members.Any(m => m.IsSameRun(p.Info!)))
            .Select(p => p.Info!)
            .ToImmutableArray();
        if (!stillHeard.IsEmpty)
        {
            return Reject($"{self.Name} still hears {string.Join(", ", stillHeard.Select(m => m.Name))}", stillHeard: stillHeard);
        }

        ImmutableSortedDictionary<string, BucketTable>? baseTables = null;
        if (request.Base is { } baseId)
        {
            baseTables = request.BaseTables
                ?? (installed?.Id == baseId ? installed.Tables
                    : baseCache?.Id == baseId ? baseCache.Tables
                    : promised?.Id == baseId ? promised.Tables
                    : null);
            if (baseTables is null)
            {
                return Reject($"{self.Name} does not hold base view {baseId}", needsBase: true);
            }
        }

        var tables = ClusterView.ComputeTables(baseTables, request.Members, modules, request.Id.Epoch);
        if (ClusterView.ComputeFingerprint(tables) != request.TablesFingerprint)
        {
            // Our copy of the base differs from the coordinator's (or a module configuration does): ask for its base.
            Log.TablesDiffer(logger, request.Id);
            return Reject($"{self.Name} computed different bucket tables for {request.Id}", needsBase: request.BaseTables is null);
        }

        promised = new ClusterView(request.Id, request.Members, tables);
        promisedFromScratch = request.Base is null;
        promisedBase = request.Base;
        if (installed is { } current && current.Contains(self) && request.Base is not null && request.Base != current.Id)
        {
            // We missed views: others may have served (and now drain) buckets our installed table still calls ours.
            ClaimAll(current, request.Id, now);
        }
        maxEpochSeen = Math.Max(maxEpochSeen, request.Id.Epoch);
        RecordReleases();
        SetOwnership(BuildOwnership(now), now);
        return new PrepareReply(request.Id, true, null, false, []);
    }

    private CommitReply OnCommit(CommitRequest request, TimeSpan now)
    {
        if (installed is { } i && i.Id >= request.Id)
        {
            return new CommitReply(request.Id, true);
        }

        if (promised is { } p && p.Id == request.Id)
        {
            Install(p, now, fromScratch: promisedFromScratch, baseId: promisedBase);
            return new CommitReply(request.Id, true);
        }

        return new CommitReply(request.Id, false);
    }

    private void CatchUp(TimeSpan now)
    {
        if (getViewOutstanding)
        {
            return;
        }

        PeerState? best = null;
        foreach (var peer in peers.Values)
        {
            if (Reachable(peer, now) && ViewId.Compare(peer.Installed, best?.Installed ?? installed?.Id) > 0)
            {
                best = peer;
            }
        }

        if (best?.Installed is { } id && (promised is null || id >= promised.Id))
        {
            RequestView(best.Name, now);
        }
    }

    private void RequestView(string holder, TimeSpan now)
    {
        if (!getViewOutstanding)
        {
            getViewOutstanding = true;
            Send(holder, BestLan(holder), new GetViewRequest(), now);
        }
    }

    private void OnViewFetched(ClusterView? view, TimeSpan now)
    {
        if (view is null || ViewId.Compare(view.Id, installed?.Id) <= 0)
        {
            return;
        }

        baseCache = view;

        // A committed view that lists us was promised by us (every member acknowledged it), so installing
        // it is safe. One that does not list us is kept only as a base: a live node outside a view is a
        // partition, and the coordinator will merge us.
        if (view.Contains(self) && (promised is null || view.Id >= promised.Id))
        {
            Install(view, now);
        }
    }

    /// <summary>
    /// Installs a committed view. <paramref name="fromScratch"/>: the farm's first view (no base): nobody held any bucket.
    /// <paramref name="baseId"/>: the view its tables derive from, when known. Only when that is the view installed here
    /// does "this bucket was mine" mean no other node served it since; otherwise (views were missed) every bucket the
    /// view gives this node is claimed, so a node that drains one of them is heard first.
    /// </summary>
    private void Install(ClusterView view, TimeSpan now, bool fromScratch = false, ViewId? baseId = null)
    {
        var previous = installed;
        bool continuous = previous is not null && baseId is not null && previous.Id == baseId;
        installed = view;
        if (promised is not null && promised.Id <= view.Id)
        {
            promised = null;
        }

        maxEpochSeen = Math.Max(maxEpochSeen, view.Id.Epoch);
        bool wasMember = continuous && previous!.Contains(self);
        foreach (var module in modules)
        {
            releasedSinceInstall[module.Name].Clear();
            if (!view.Tables.TryGetValue(module.Name, out var table) || !view.Contains(self))
            {
                continue;
            }

            BucketTable? before = wasMember && previous!.Tables.TryGetValue(module.Name, out var t) && t.BucketCount == table.BucketCount ? t : null;
            var claimed = claims[module.Name];
            var draining = drainingUntil[module.Name];
            var drainTimeout = specs[module.Name].DrainTimeout;
            for (int b = 0; b < table.BucketCount; b++)
            {
                bool mineNow = table.OwnerOf(b) == self.Name;
                bool mineBefore = before?.OwnerOf(b) == self.Name;
                if (mineNow && !mineBefore)
                {
                    draining.Remove(b);

                    // Claimed until every other member said whether it still drains the bucket (ResolveClaims). The
                    // farm's first view: nobody held anything.
                    if (!fromScratch)
                    {
                        claimed[b] = NewClaim(module.Name, view.Id, now);
                    }
                }
                else if (!mineNow && mineBefore)
                {
                    claimed.Remove(b);
                    draining[b] = now + drainTimeout;
                }
            }
        }

        ResolveClaims();
        SetOwnership(BuildOwnership(now), now);
        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.Installed(logger, view.Id, string.Join(", ", view.Members.Select(m => m.Name)), view.Contains(self));
        }
    }

    /// <summary>
    /// A claim made in view <paramref name="since"/>: it outlives the previous owner's drain timeout by a detection
    /// timeout, so that owner always lets go first.
    /// </summary>
    private Claim NewClaim(string module, ViewId since, TimeSpan now) => new(since, now + specs[module].DrainTimeout + options.DetectionTimeout);

    /// <summary>Claims every bucket <paramref name="view"/> gives this node, as of view <paramref name="since"/>.</summary>
    private void ClaimAll(ClusterView view, ViewId since, TimeSpan now)
    {
        foreach (var module in modules)
        {
            if (view.Tables.TryGetValue(module.Name, out var table) && table.BucketCount == module.BucketCount)
            {
                var claimed = claims[module.Name];
                for (int b = 0; b < table.BucketCount; b++)
                {
                    if (table.OwnerOf(b) == self.Name)
                    {
                        claimed[b] = NewClaim(module.Name, since, now);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Phase 1: every bucket we own that the just-promised view gives to another node is released (drains, takes no
    /// new flow). Releases are sticky until the next install: a later promise never re-acquires a bucket.
    /// </summary>
    private void RecordReleases()
    {
        if (installed is null || !installed.Contains(self) || promised is null)
        {
            return;
        }

        foreach (var module in modules)
        {
            if (!installed.Tables.TryGetValue(module.Name, out var table) || table.BucketCount != module.BucketCount)
            {
                continue;
            }

            BucketTable? next = promised.Contains(self) && promised.Tables.TryGetValue(module.Name, out var pt) ? pt : null;
            var released = releasedSinceInstall[module.Name];
            for (int b = 0; b < table.BucketCount; b++)
            {
                if (table.OwnerOf(b) == self.Name && (next is null || next.OwnerOf(b) != self.Name))
                {
                    released.Add(b);
                }
            }
        }
    }

    private OwnershipSnapshot BuildOwnership(TimeSpan now)
    {
        var result = ImmutableSortedDictionary.CreateBuilder<string, ModuleOwnership>(StringComparer.Ordinal);
        bool member = installed is not null && installed.Contains(self);
        foreach (var module in modules)
        {
            var states = new BucketState[module.BucketCount];
            var released = releasedSinceInstall[module.Name];
            bool incoming = false;
            if (member && installed!.Tables.TryGetValue(module.Name, out var table) && table.BucketCount == module.BucketCount)
            {
                var claimed = claims[module.Name];
                var drainedElsewhere = DrainedByPeers(module.Name);
                for (int b = 0; b < states.Length; b++)
                {
                    if (table.OwnerOf(b) != self.Name)
                    {
                        continue;
                    }

                    states[b] = released.Contains(b) ? BucketState.Draining
                        : claimed.ContainsKey(b) ? BucketState.Claimed
                        : drainedElsewhere?.Contains(b) == true ? BucketState.Incoming
                        : BucketState.Owned;
                    incoming |= states[b] == BucketState.Incoming;
                }
            }

            foreach (var (bucket, until) in drainingUntil[module.Name])
            {
                if (until > now && states[bucket] == BucketState.None)
                {
                    states[bucket] = BucketState.Draining;
                }
            }

            result[module.Name] = new ModuleOwnership(module.Name, states, incoming ? ForeignFlows(module.Name) : []);
        }

        return new OwnershipSnapshot(++snapshotVersion, installed?.Id, Reflects, result.ToImmutable());
    }

    /// <summary>
    /// Makes <paramref name="snapshot"/> the ownership: notes when each drain began (for its age, and so a drain report
    /// ends only drains no newer than what it saw) and, when nobody looks at connections, publishes the drain report
    /// that follows the states at once (every drain then runs to its timeout).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(Ownership))]
    private void SetOwnership(OwnershipSnapshot snapshot, TimeSpan now)
    {
        Ownership = snapshot;
        foreach (var (name, states) in snapshot.Modules)
        {
            var starts = drainStarts[name];
            foreach (int bucket in starts.Keys.Where(b => states[b] != BucketState.Draining).ToList())
            {
                starts.Remove(bucket);
            }

            for (int b = 0; b < states.States.Length; b++)
            {
                if (states[b] == BucketState.Draining)
                {
                    starts.TryAdd(b, new DrainStart(snapshot.Version, now));
                }
            }
        }

        if (!options.TracksDrains)
        {
            Publish(new DrainReport(snapshot.Reflects, [.. snapshot.Modules.Values
                .Where(m => m.Draining > 0 || m.Incoming > 0)
                .Select(m => new ModuleDrainReport(m.Module, m.BucketsIn(BucketState.Draining), [], m.Incoming, null))]), now);
        }
    }

    /// <summary>Rebuilds the ownership, keeping the current snapshot when no state and no foreign flow changed.</summary>
    private void Rebuild(TimeSpan now)
    {
        var next = BuildOwnership(now);
        bool same = next.View == Ownership.View && next.Reflects == Ownership.Reflects &&
            next.Modules.All(kv => Ownership.Modules.TryGetValue(kv.Key, out var old) && old.SameAs(kv.Value));
        if (!same)
        {
            SetOwnership(next, now);
        }
    }

    /// <summary>The newest view the states follow: a pending promise (its releases drain already), else the installed view.</summary>
    private ViewId? Reflects => promised is not null && ViewId.Compare(promised.Id, installed?.Id) > 0 ? promised.Id : installed?.Id;

    /// <summary>Age of the module's oldest drain in progress, or null.</summary>
    private TimeSpan? OldestDrainAge(string module, TimeSpan now) =>
        drainStarts.TryGetValue(module, out var starts) && starts.Count > 0 ? now - starts.Values.Min(s => s.At) : null;

    private bool HasClaims() => claims.Values.Any(c => c.Count > 0);

    /// <summary>
    /// Settles claimed buckets from the other members' drain reports: once every other member (its current run) sent
    /// a report reflecting the view the claim was made in or a later one, the claim ends: from then on the bucket is
    /// incoming while a peer's latest report says it drains it, else owned. A member's report lists what it drains as
    /// of that view, so a later report never reveals an older drain. Returns true when a claim ended.
    /// </summary>
    private bool ResolveClaims()
    {
        if (installed is null || !installed.Contains(self) || !HasClaims())
        {
            return false;
        }

        var reports = new List<DrainReport?>(installed.Members.Length);
        foreach (var member in installed.Members)
        {
            if (member.Name == self.Name || !peers.TryGetValue(member.Name, out var peer))
            {
                continue;
            }

            if (peer.Info is { } info && info.Incarnation > member.Incarnation)
            {
                continue; // that run is gone (the node restarted): it tracks nothing any more
            }

            reports.Add(peer.Drains);
        }

        bool changed = false;
        foreach (var module in modules)
        {
            var claimed = claims[module.Name];
            if (claimed.Count == 0)
            {
                continue;
            }

            var parts = reports.Select(r => r?.Reflects).ToList();
            foreach (var (bucket, claim) in claimed.ToList())
            {
                bool all = true;
                foreach (var reflects in parts)
                {
                    if (ViewId.Compare(reflects, claim.Since) < 0)
                    {
                        all = false;
                        break;
                    }
                }

                if (all)
                {
                    claimed.Remove(bucket); // incoming while a reachable peer drains it (BuildOwnership), else owned
                    changed = true;
                }
            }
        }

        return changed;
    }

    /// <summary>The UDP flows the other members still serve in buckets they drain (their encodings, by name).</summary>
    private ImmutableArray<FlowKey> ForeignFlows(string module)
    {
        var result = ImmutableArray.CreateBuilder<FlowKey>();
        foreach (var peer in peers.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (MemberReport(peer)?.Find(module) is { Flows.IsEmpty: false } part)
            {
                result.AddRange(part.Flows);
            }
        }

        return result.ToImmutable();
    }

    /// <summary>
    /// Buckets of <paramref name="module"/> that another member's latest report says it drains (it serves their
    /// tracked connections: this node must not answer those packets), or null when none. Whether we still hear that
    /// member does not matter: while it is in the installed view its lease may run.
    /// </summary>
    private HashSet<int>? DrainedByPeers(string module)
    {
        HashSet<int>? result = null;
        foreach (var peer in peers.Values)
        {
            if (MemberReport(peer)?.Find(module) is { Draining.IsEmpty: false } part)
            {
                (result ??= []).UnionWith(part.Draining);
            }
        }

        return result;
    }

    /// <summary>The peer's latest drain report when the run that sent it is a member of the installed view, else null.</summary>
    private DrainReport? MemberReport(PeerState peer) =>
        peer.Info is { } info && installed?.Find(peer.Name) is { } member && member.Incarnation == info.Incarnation ? peer.Drains : null;

    /// <summary>Makes <paramref name="report"/> what the heartbeats say; when it changed, tells every peer now.</summary>
    private void Publish(DrainReport report, TimeSpan now)
    {
        if (report.Equals(published))
        {
            return;
        }

        published = report;
        if (firstTick is not null)
        {
            SendHeartbeats(now); // a new owner waits for this: do not make it wait for the next tick
        }
    }

    /// <summary>The published report with the current drain ages (status on the peers shows them).</summary>
    private DrainReport CurrentDrainReport(TimeSpan now) =>
        published.Modules.IsEmpty
            ? published
            : published with { Modules = [.. published.Modules.Select(m => m with { OldestDrainAge = OldestDrainAge(m.Module, now) })] };

    private void SendHeartbeats(TimeSpan now)
    {
        var heartbeat = new HeartbeatRequest(self, configHash, installed?.Id, promised?.Id, WitnessLost(now), CurrentDrainReport(now));
        foreach (var peer in peers.Values)
        {
            for (int lan = 0; lan < options.LanCount; lan++)
            {
                Send(peer.Name, lan, heartbeat, now);
            }
        }
    }

    // ---- lease ------------------------------------------------------------------------------

    private void RefreshLease(TimeSpan now)
    {
        // A lapse starts a resynchronization; a new stall restarts it, so confirmations from before it do not count.
        bool lapsed = now >= leaseExpiry;
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
            int fresh = 1 + peers.Values.Count(p => p.ConfirmsSince(window));
            int total = options.ConfiguredNodes.Count;
            ok = member && fresh * 2 > total && installed!.Members.Length * 2 > total;
        }
        else
        {
            ok = member && (resyncSince is not { } since || Resynchronized(since, now));
            if (options.SplitBrainPolicy == SplitBrainPolicy.Witness)
            {
                // Whoever held the witness before us stopped reaching it before our streak began, so its lease ends
                // within FreshnessWindow + Lease of that: wait that long into a new streak before serving.
                ok &= !WitnessLost(now) && now - witnessStreakStart >= options.FreshnessWindow + options.Lease;
            }
        }

        if (ok)
        {
            if (resyncSince is not null)
            {
                Log.LeaseResumed(logger, self.Name);
            }

            leaseExpiry = now + options.Lease;
            resyncSince = null;
        }
    }

    /// <summary>
    /// After a lapse (stall, lost witness, start) we accept again only when every other member of our installed
    /// view, and every peer we heard since, confirmed by a round trip started after the lapse and within the
    /// freshness window that its views still list us: while we were out, any of them may have formed a view without
    /// us, and one stale peer's word is not enough. A dead member blocks this until the coordinator installs a view
    /// without it. Alone in our view, we also wait a whole detection timeout: silent peers are then on the other side
    /// of a partition.
    /// </summary>
    private bool Resynchronized(TimeSpan since, TimeSpan now)
    {
        // A confirmation also has to be fresh: a peer that confirmed us at ts refuses our removal only until ts + D.
        var fresh = now - options.FreshnessWindow > since ? now - options.FreshnessWindow : since;
        foreach (var peer in peers.Values)
        {
            bool confirmed = peer.ConfirmsSince(fresh);
            bool heard = peer.LastHeard != TimeSpan.MinValue && peer.LastHeard >= since;
            bool member = installed!.Find(peer.Name) is not null;
            if ((heard || member) && !confirmed)
            {
                return false;
            }
        }

        return installed!.Members.Length > 1 || now - since >= options.DetectionTimeout;
    }

    private sealed class PeerState(string name, int lanCount)
    {
        public string Name { get; } = name;

        public MemberInfo? Info { get; set; }

        public string? ConfigHash { get; set; }

        public TimeSpan LastHeard { get; set; } = TimeSpan.MinValue;

        public TimeSpan[] LastHeardPerLan { get; } = Enumerable.Repeat(TimeSpan.MinValue, lanCount).ToArray();

        public TimeSpan LastIncludingRoundTripStart { get; set; } = TimeSpan.MinValue;

        /// <summary>Start of the latest round trip whose reply said the peer's views do not list us.</summary>
        public TimeSpan LastExcludingRoundTripStart { get; set; } = TimeSpan.MinValue;

        /// <summary>True when the peer's latest answer, to a round trip started at or after <paramref name="since"/>, lists us.</summary>
        public bool ConfirmsSince(TimeSpan since) =>
            LastIncludingRoundTripStart >= since && LastIncludingRoundTripStart > LastExcludingRoundTripStart;

        /// <summary>The transport authenticated a message of this peer that it could not deliver (first contact).</summary>
        public bool Contacted { get; set; }

        /// <summary>Last message of any config hash (admitted or not).</summary>
        public TimeSpan LastHeardAny { get; set; } = TimeSpan.MinValue;

        /// <summary>Installed view reported by the peer, whatever its config hash.</summary>
        public ViewId? InstalledAny { get; set; }

        public ViewId? Installed { get; set; }

        public ViewId? Promised { get; set; }

        /// <summary>The peer said it lost the witness (policy witness): it must not coordinate.</summary>
        public bool WitnessLost { get; set; }

        public bool Admitted(string ours) => ConfigHash == ours;

        /// <summary>The peer's latest drain report (null before any).</summary>
        public DrainReport? Drains { get; set; }

        /// <summary>The peer's hand-over progress per module from its latest heartbeat.</summary>
        public ImmutableArray<ModuleDrainStatus> DrainStatuses { get; set; } = [];
    }

    /// <summary>A bucket taken over in view <c>Since</c>; the claim ends at <c>Until</c> at the latest.</summary>
    private readonly record struct Claim(ViewId Since, TimeSpan Until);

    /// <summary>When a bucket began to drain: the first snapshot version showing it draining, and the time.</summary>
    private readonly record struct DrainStart(long Version, TimeSpan At);

    private sealed record PendingRequest(string To, int Lan, TimeSpan SentAt, MembershipMessage Message);

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

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Installed view {View}: {Members} (this node is a member: {IsMember})")]
        public static partial void Installed(ILogger logger, ViewId view, string members, bool isMember);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Proposal {View} rejected by {Node}: {Reason}")]
        public static partial void ProposalRejected(ILogger logger, ViewId view, string node, string reason);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Node {Node} has config hash {TheirHash}, ours is {OurHash}: it is not admitted until both match")]
        public static partial void ConfigMismatch(ILogger logger, string node, string theirHash, string ourHash);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Computed bucket tables differ from the coordinator's for view {View}")]
        public static partial void TablesDiffer(ILogger logger, ViewId view);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Lease of {Node} resumed after a lapse")]
        public static partial void LeaseResumed(ILogger logger, string node);
    }
}
