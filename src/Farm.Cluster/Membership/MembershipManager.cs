using System.Collections.Immutable;
using Farm.Core.Buckets;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Membership;

/// <summary>
/// The membership protocol of one node, without I/O: time is passed in, requests come out of
/// <see cref="TakeOutbox"/> and answers go back through <see cref="HandleReply"/> / <see cref="HandleFailure"/>.
/// The same code runs in the virtual-time simulation and in farmd. Not thread-safe: the host serializes calls.
/// A facade over the roles that do the work, each owning its state: <see cref="PeerMonitor"/> (liveness),
/// <see cref="RequestLedger"/> (requests in flight), <see cref="ViewCoordinator"/> (proposes views),
/// <see cref="ViewAcceptor"/> (promises and installs them), <see cref="HandoverLedger"/> (releases, claims, drains and
/// the bucket states), <see cref="LeaseKeeper"/> and <see cref="WitnessMonitor"/>. The manager routes messages to them,
/// recomputes the ownership (one method) and sends the heartbeats.
/// See docs/architecture.md ("Membership protocol") for the rules and why they are safe.
/// </summary>
public sealed partial class MembershipManager : IViewListener
{
    private readonly MembershipOptions options;
    private readonly string configHash;
    private readonly ILogger logger;
    private readonly PeerMonitor peers;
    private readonly WitnessMonitor witness;
    private readonly LeaseKeeper lease;
    private readonly RequestLedger requests = new();
    private readonly HandoverLedger handover;
    private readonly ViewAcceptor acceptor;
    private readonly ViewCoordinator coordinator;
    private readonly ModuleMismatchLog mismatches;
    private readonly ModuleCatalog modules;
    private MemberInfo self;
    private TimeSpan? firstTick;

    /// <summary>Creates the protocol state of node <paramref name="self"/>, started at <paramref name="now"/>.</summary>
    public MembershipManager(
        MembershipOptions options, MemberInfo self, string configHash, IReadOnlyList<ModuleSpec> modules, TimeSpan now, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(modules);
        options.Validate();
        this.options = options;
        this.modules = new ModuleCatalog(modules);
        this.self = self = ModuleAgreement.WithDefinitions(self, modules);
        this.configHash = configHash;
        this.logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        peers = new PeerMonitor(options, self.Name, configHash, this.modules, this.logger);
        witness = new WitnessMonitor(options);
        lease = new LeaseKeeper(options, witness, this.logger);
        handover = new HandoverLedger(options, this.modules, self);
        acceptor = new ViewAcceptor(this.modules, self, peers, requests, this, this.logger);
        coordinator = new ViewCoordinator(options, this.modules, self.Name, peers, witness, acceptor, requests, this.logger);
        mismatches = new ModuleMismatchLog(self.Name, this.modules, this.logger);
        UpdateOwnership(now);
    }

    /// <summary>This node as it describes itself.</summary>
    public MemberInfo Self => self;

    /// <summary>The installed (committed) view, or null before the first.</summary>
    public ClusterView? Installed => acceptor.Installed;

    /// <summary>The view this node promised in phase 1 and not yet installed, or null.</summary>
    public ClusterView? Promised => acceptor.Promised;

    /// <summary>Bucket states for the data plane. Replaced whole on every change.</summary>
    public OwnershipSnapshot Ownership { get; private set; }

    /// <summary>When the kernel lease ends unless refreshed (the data plane mirrors it).</summary>
    public TimeSpan LeaseExpiry => lease.Expiry;

    /// <summary>Peers whose config hash differs from ours, with their hash (for status).</summary>
    public IReadOnlyDictionary<string, string> ConfigMismatches => peers.ConfigMismatches;

    /// <summary>Members of the installed view whose definition of one of this node's modules is not the agreed one (no buckets of it), for status.</summary>
    public IReadOnlyList<ModuleMismatch> ModuleMismatches => mismatches.Current;

    /// <summary>A snapshot of every peer, in name order, for status.</summary>
    public ImmutableArray<PeerStatus> PeerStatuses(TimeSpan now) => peers.Statuses(now);

    /// <summary>This node's hand-over progress per module (buckets taken over, buckets draining, oldest drain's age).</summary>
    public ImmutableArray<ModuleDrainStatus> DrainStatuses(TimeSpan now) => handover.Statuses(Ownership, now);

    /// <summary>
    /// The host applied <paramref name="applied"/>; <paramref name="scans"/>: per module, which of its draining buckets still
    /// hold live connections (no scan: all busy). Idle drains end now and the heartbeats tell the peers at once.
    /// </summary>
    public void ReportDrains(OwnershipSnapshot applied, IReadOnlyDictionary<string, ModuleDrainScan> scans, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(applied);
        ArgumentNullException.ThrowIfNull(scans);
        if (handover.EndIdleDrains(applied, scans, out var report))
        {
            UpdateOwnership(now);
        }

        Publish(report, now);
    }

    /// <summary>True when this node may accept new flows of a bucket at <paramref name="now"/> (lease and state).</summary>
    public bool AcceptsNewFlows(string module, int bucket, TimeSpan now) =>
        now < lease.Expiry && Ownership.AcceptsNewFlows(module, bucket);

    /// <summary>Requests to send, in order; the caller owns the list.</summary>
    public IReadOnlyList<OutboundRequest> TakeOutbox() => requests.TakeOutbox();

    /// <summary>Changes what this node says about itself (weight, ready modules, leaving); the coordinator reacts.</summary>
    public void UpdateSelf(MemberInfo info) => self = self.ChangedTo(info);

    /// <summary>
    /// Loads module <paramref name="name"/> live as <paramref name="spec"/> (new, or redefined once this node stopped serving
    /// it: its hand-overs here are forgotten) or unloads it (null); announces this node's definitions (<see cref="ModuleAgreement"/>).
    /// </summary>
    public void SetModule(string name, ModuleSpec? spec, TimeSpan now)
    {
        modules.Set(name, spec);
        handover.Reset(name, spec);
        self = ModuleAgreement.WithDefinitions(self with { Definitions = [] }, modules);
        UpdateOwnership(now);
    }

    /// <inheritdoc cref="PeerMonitor.NoteContact"/>
    public void NoteContact(string name) => peers.NoteContact(name);

    /// <inheritdoc cref="PeerMonitor.NoteGone"/>
    public bool NotePeerGone(string name, int lan, TimeSpan now)
    {
        if (!peers.NoteGone(name, lan, now))
        {
            return false;
        }

        // The others learn it now, not at the next tick: the next coordinator may be one whose own connection to the
        // dead process has not broken yet (HeartbeatRequest.Gone).
        if (firstTick is not null)
        {
            SendHeartbeats(now);
        }

        return true;
    }

    /// <summary>
    /// The peers <paramref name="heartbeat"/>'s sender saw die that this node still hears: its transport probes their
    /// ports (a refusal there makes them gone here too, <see cref="NotePeerGone"/>). The sender's word alone removes no
    /// one.
    /// </summary>
    public IEnumerable<string> GoneToConfirm(HeartbeatRequest heartbeat, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        foreach (string name in heartbeat.Gone ?? [])
        {
            if (name != self.Name && peers.IsReachable(name, now))
            {
                yield return name;
            }
        }
    }

    /// <summary>
    /// True when a peer is late (silent for more than one and a half intervals: a peer speaks every interval, and the
    /// half keeps the ordinary jitter of an idle farm from probing): the host should probe whether its own readers run
    /// (<see cref="NoteReaders"/>) before the silence counts. Until the probe is queued, at most this plus a tick (2.5
    /// intervals) of a silence this node caused counts, below the smallest detection timeout (3 intervals).
    /// </summary>
    public bool AnyPeerLate(TimeSpan now) => peers.AnyLate(options.HeartbeatInterval * 1.5, now);

    /// <summary>
    /// What the host's probe of the threads that read its sockets showed, before <see cref="Tick"/> and <see cref="Poll"/>:
    /// since when a probe waits to run (null: none), and when the latest one that ran was queued and ran. The time a
    /// probe waited counts as a stall of this node (<see cref="StallLedger"/>): a peer's silence then is not the peer's.
    /// </summary>
    public void NoteReaders(TimeSpan? waitingSince, TimeSpan? lastQueued, TimeSpan? lastRan) => peers.NoteReaders(waitingSince, lastQueued, lastRan);

    /// <summary>Reports that the split-brain witness answered a probe sent at <paramref name="probeStart"/>.</summary>
    public void ReportWitnessReached(TimeSpan probeStart) => witness.Reached(probeStart);

    /// <summary>One heartbeat tick: heartbeats out, timeouts, coordinator work, catch-up, lease refresh.</summary>
    public void Tick(TimeSpan now)
    {
        firstTick ??= now;
        peers.NoteRunning(now);
        foreach (long id in requests.Expired(now, options.DetectionTimeout) ?? [])
        {
            HandleFailure(id, now); // no answer within the detection timeout
        }

        bool expired = handover.ExpireTimed(now);
        expired |= handover.ResolveClaims(acceptor.Installed, peers); // a member restarted meanwhile: its old run drains nothing
        coordinator.ExpireVouches(now);
        if (expired)
        {
            UpdateOwnership(now);
        }

        SendHeartbeats(now);
        coordinator.Step(lease.Announced(self, now), firstTick, now, resend: true);
        acceptor.CatchUp(now);
        if (lease.Refresh(now, acceptor.Installed, self, peers))
        {
            SendHeartbeats(now); // the ready modules are announced again: the coordinator gives this node its share
        }
    }

    /// <summary>
    /// Between heartbeat ticks: lets the coordinator start (or restart, when the members it sees changed) a view change
    /// as soon as a peer's detection timeout has passed instead of at the next tick (up to one interval later). Sends
    /// no heartbeats and never resends; cheap enough to call every few milliseconds.
    /// </summary>
    public void Poll(TimeSpan now)
    {
        peers.NoteRunning(now);
        coordinator.Step(lease.Announced(self, now), firstTick, now, resend: false);
    }

    /// <summary>Answers a request from an authenticated peer.</summary>
    public MembershipMessage HandleRequest(string from, int lan, MembershipMessage request, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (peers.Find(from) is null)
        {
            throw new ArgumentException($"'{from}' is not a member of the cluster file.", nameof(from));
        }

        switch (request)
        {
            case HeartbeatRequest hb:
                NotePeer(from, hb.Sender, hb.ConfigHash, hb.Installed, hb.Promised, hb.WitnessLost, hb.Drains, lan, now);
                peers.NoteClocks(from, hb.Sender, hb.SentAt, hb.Echo, now);
                return new HeartbeatReply(
                    lease.Announced(self, now), configHash, acceptor.Installed?.Id, acceptor.Promised?.Id, acceptor.IncludesRun(hb.Sender), witness.Lost(now), handover.Current(now));
            case PrepareRequest prepare:
                peers.NoteHeard(from, lan, now);
                return acceptor.OnPrepare(prepare, now);
            case CommitRequest commit:
                peers.NoteHeard(from, lan, now);
                return acceptor.OnCommit(commit, now);
            case GetViewRequest:
                peers.NoteHeard(from, lan, now);
                return new GetViewReply(acceptor.Installed);
            default:
                throw new ArgumentException($"Unexpected request {request.GetType().Name}.", nameof(request));
        }
    }

    /// <summary>Delivers the answer to a request taken from the outbox.</summary>
    public void HandleReply(long correlationId, MembershipMessage reply, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (!requests.TryComplete(correlationId, out var request) || peers.Find(request.To) is null)
        {
            return; // late answer to an expired request
        }

        if (reply is not HeartbeatReply)
        {
            peers.NoteHeard(request.To, request.Lan, now);
        }

        switch (reply)
        {
            case HeartbeatReply hb:
                NotePeer(request.To, hb.Sender, hb.ConfigHash, hb.Installed, hb.Promised, hb.WitnessLost, hb.Drains, request.Lan, now);
                peers.NoteRoundTrip(request.To, request.Lan, request.SentAt, hb.IncludesYou, now);
                break;
            case PrepareReply pr:
                coordinator.OnPrepareReply(request.To, pr, now);
                break;
            case GetViewReply gv:
                acceptor.OnFetched(gv.View, now);
                break;
        }
    }

    /// <summary>Reports that a request failed (timeout, connection refused...).</summary>
    public void HandleFailure(long correlationId, TimeSpan now)
    {
        _ = now;
        if (requests.TryComplete(correlationId, out var request) && request.Message is GetViewRequest)
        {
            acceptor.OnFetchFailed();
        }
    }

    /// <summary>Records what a heartbeat (request or reply) says about its sender.</summary>
    private void NotePeer(
        string name, MemberInfo info, string hash, ViewId? peerInstalled, ViewId? peerPromised, bool witnessLost, DrainReport? drains, int lan, TimeSpan now)
    {
        var note = peers.NoteHeartbeat(name, info, hash, peerInstalled, peerPromised, witnessLost, drains, lan, now);
        if (note.Admitted)
        {
            acceptor.NoteEpoch(Math.Max(peerInstalled?.Epoch ?? 0, peerPromised?.Epoch ?? 0));
        }

        if (note.DrainsChanged)
        {
            handover.ResolveClaims(acceptor.Installed, peers);
            UpdateOwnership(now, onlyIfChanged: true); // a take-over may have completed, or the buckets and flows not to answer changed
        }
    }

    /// <summary>
    /// The one place the ownership is recomputed (after every change of a view, a claim, a drain or a peer's drain
    /// report). <paramref name="onlyIfChanged"/>: keep the current snapshot when no state and no foreign flow changed.
    /// When nobody looks at connections, the drain report that follows the states is published at once.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(Ownership))]
    private void UpdateOwnership(TimeSpan now, bool onlyIfChanged = false)
    {
        var next = handover.Build(acceptor.Installed, acceptor.Reflects, peers.MemberReports(acceptor.Installed), now);
        if (onlyIfChanged && Ownership is not null && next.SameStatesAs(Ownership))
        {
            return;
        }

        Ownership = next;
        if (handover.NoteSnapshot(next, now) is { } report)
        {
            Publish(report, now);
        }
    }

    /// <inheritdoc />
    void IViewListener.Promised(
        ClusterView? installed, ClusterView promised, ViewId? baseId, IReadOnlyDictionary<string, BucketTable>? baseTables, TimeSpan now)
    {
        handover.OnPromised(installed, promised, baseId, baseTables, now);
        UpdateOwnership(now);
    }

    /// <inheritdoc />
    void IViewListener.Installed(ClusterView? previous, ClusterView view, bool continuous, bool fromScratch, TimeSpan now)
    {
        handover.OnInstalled(previous, view, continuous, fromScratch, now);
        handover.ResolveClaims(acceptor.Installed, peers);
        UpdateOwnership(now);
        mismatches.Note(view);
    }

    /// <summary>Makes <paramref name="report"/> what the heartbeats say; when it changed, tells every peer now.</summary>
    private void Publish(DrainReport report, TimeSpan now)
    {
        if (handover.Publish(report) && firstTick is not null)
        {
            SendHeartbeats(now); // a new owner waits for this: do not make it wait for the next tick
        }
    }

    private void SendHeartbeats(TimeSpan now) => peers.SendHeartbeats(
        new HeartbeatRequest(lease.Announced(self, now), configHash, acceptor.Installed?.Id, acceptor.Promised?.Id, witness.Lost(now), handover.Current(now),
            Gone: peers.GoneNames()),
        lease.AllowsQuietHeartbeats(now), requests, now);
}
