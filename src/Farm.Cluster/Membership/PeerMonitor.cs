using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace Farm.Cluster.Membership;

/// <summary>
/// Peer liveness: what every other configured node last said (heartbeats, answers) and when it was heard, per LAN;
/// whether it is admitted (same config hash) and reachable (heard within the detection timeout); which round trips
/// confirmed that its views list us. Records what peers say and decides nothing else: the other roles read it.
/// </summary>
internal sealed partial class PeerMonitor
{
    private readonly MembershipOptions options;
    private readonly string configHash;
    private readonly IReadOnlyList<ModuleSpec> modules;
    private readonly ILogger logger;
    private readonly Dictionary<string, PeerState> peers = new(StringComparer.Ordinal);
    private readonly StallLedger stalls;

    public PeerMonitor(MembershipOptions options, string selfName, string configHash, IReadOnlyList<ModuleSpec> modules, ILogger logger)
    {
        this.options = options;
        this.configHash = configHash;
        this.modules = modules;
        this.logger = logger;
        stalls = new StallLedger(options.HeartbeatInterval, options.DetectionTimeout);
        foreach (var name in options.ConfiguredNodes)
        {
            if (!string.Equals(name, selfName, StringComparison.Ordinal))
            {
                peers[name] = new PeerState(name, options.LanCount);
            }
        }
    }

    /// <summary>Every peer of the cluster file, in a fixed order.</summary>
    public IEnumerable<IPeer> All => peers.Values;

    /// <summary>Our config hash: a peer is admitted while its hash is the same.</summary>
    public string ConfigHash => configHash;

    /// <summary>The peer named <paramref name="name"/>, or null when the cluster file does not list it.</summary>
    public IPeer? Find(string name) => peers.GetValueOrDefault(name);

    /// <summary>Peers whose config hash differs from ours, with their hash (for status).</summary>
    public IReadOnlyDictionary<string, string> ConfigMismatches =>
        peers.Values.Where(p => p.ConfigHash is not null && p.ConfigHash != configHash)
            .ToDictionary(p => p.Name, p => p.ConfigHash!, StringComparer.Ordinal);

    /// <summary>True when <paramref name="last"/> (MinValue = never) lies within <paramref name="window"/> before <paramref name="now"/>.</summary>
    public static bool Within(TimeSpan last, TimeSpan now, TimeSpan window) => last != TimeSpan.MinValue && now - last < window;

    /// <summary>This node runs its membership code at <paramref name="now"/> (a tick or a poll; messages count too, <see cref="NoteHeard"/>): see <see cref="StallLedger"/>.</summary>
    public void NoteRunning(TimeSpan now) => stalls.NoteRunning(now);

    /// <summary>
    /// The latest moment up to which this node's peers may count it alive, or null when none could: while a peer is
    /// reachable, the moment this process's readers last ran (<see cref="StallLedger.ReadersRanAt"/>) plus the detection
    /// timeout less an interval. Its writers, of the same kind, send its heartbeats: starved, they stop together, and the
    /// peers may give its buckets away one detection timeout after its last heartbeat left. The lease must end before
    /// (<see cref="LeaseKeeper.Refresh"/>): a starved farmd's heartbeat thread, at real-time priority, would otherwise
    /// keep renewing it while the others took its buckets (simulated: a bucket accepted by two kernels).
    /// </summary>
    public TimeSpan? CountedAliveUntil(TimeSpan now) =>
        stalls.ReadersRanAt is { } ran && peers.Values.Any(p => Reachable(p, now)) ? ran + options.DetectionTimeout - options.HeartbeatInterval : null;

    /// <summary>What the host's probe of its readers showed: see <see cref="StallLedger.NoteReaders"/>.</summary>
    public void NoteReaders(TimeSpan? waitingSince, TimeSpan? lastQueued, TimeSpan? lastRan) => stalls.NoteReaders(waitingSince, lastQueued, lastRan);

    /// <summary>
    /// True when a reachable peer has been silent (wall time) for more than <paramref name="late"/>: then the host probes
    /// its readers (<see cref="StallLedger.NoteReaders"/>), so that a silence this process caused is not counted as the
    /// peer's. Peers speak every interval: while all are heard, and once a silent one is unreachable, nothing is probed.
    /// </summary>
    public bool AnyLate(TimeSpan late, TimeSpan now)
    {
        foreach (var peer in peers.Values)
        {
            if (Reachable(peer, now) && now - peer.LastHeard > late)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when the peer is admitted, was heard within the detection timeout of this node's running time (a stall of
    /// this process does not count as the peer's silence: <see cref="StallLedger"/>) and is not known to be gone.
    /// </summary>
    public bool Reachable(IPeer peer, TimeSpan now) =>
        peer.Info is not null && peer.ConfigHash == configHash && !peer.Gone && stalls.Within(peer.LastHeard, now, options.DetectionTimeout);

    /// <summary>
    /// True when this node may vouch that the peer lives: it is <see cref="Reachable"/> and, for a peer that echoes
    /// (<see cref="HeartbeatRequest.Echo"/>), its latest proof of life lies within the detection timeout: it echoed one of
    /// our heartbeats sent since then, or answered a request sent since then. Receipt alone is no proof: messages that
    /// waited in our socket while this process was stopped arrive in a burst when it resumes, long after their sender
    /// may have died. A node that vouched on receipt refused the view without a stopped peer and the coordinator
    /// re-admitted it, buckets and all (chaos soak, 2026-12-05: 51 buckets dark for 498 ms).
    /// </summary>
    public bool Vouches(IPeer peer, TimeSpan now) =>
        Reachable(peer, now) && (!peer.Echoes || Within(peer.LastProvenAlive, now, options.DetectionTimeout));

    /// <summary>When <see cref="Vouches"/> turns false if nothing new comes from the peer.</summary>
    public TimeSpan VouchesUntil(IPeer peer) =>
        (peer.Echoes && peer.LastProvenAlive < peer.LastHeard ? peer.LastProvenAlive : peer.LastHeard) + options.DetectionTimeout;

    /// <summary>The peers this node saw die and has not heard since (<see cref="NoteGone"/>); null when none.</summary>
    public IReadOnlyList<string>? GoneNames()
    {
        List<string>? gone = null;
        foreach (var peer in peers.Values)
        {
            if (peer.Gone)
            {
                (gone ??= []).Add(peer.Name);
            }
        }

        return gone;
    }

    /// <summary>True when a peer is reachable and admitted now.</summary>
    public bool IsReachable(string name, TimeSpan now) => peers.TryGetValue(name, out var p) && Reachable(p, now);

    /// <summary>When the peer was last heard on a LAN, or null.</summary>
    public TimeSpan? LastHeard(string name, int lan) =>
        peers.TryGetValue(name, out var p) && p.LastHeardPerLan[lan] != TimeSpan.MinValue ? p.LastHeardPerLan[lan] : null;

    /// <summary>The LAN the peer was heard on last (LAN 0 when never).</summary>
    public int BestLan(string peerName)
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

    /// <summary>A snapshot of every peer, in name order, for status.</summary>
    public ImmutableArray<PeerStatus> Statuses(TimeSpan now)
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
                p.DrainStatuses,
                p.LastHeard == TimeSpan.MinValue ? null : stalls.Deadline(p.LastHeard, now, options.DetectionTimeout)))];
    }

    /// <summary>
    /// The transport has signs of life from <paramref name="name"/> that are not messages yet (a TCP connection to its
    /// port opened, or an authenticated first contact came or went).
    /// </summary>
    public void NoteContact(string name)
    {
        if (peers.TryGetValue(name, out var peer))
        {
            peer.Contacted = true;
        }
    }

    /// <summary>A message of the peer arrived on <paramref name="lan"/>: it counts when the peer is admitted.</summary>
    public void NoteHeard(string name, int lan, TimeSpan now)
    {
        stalls.NoteRead(now);
        var peer = peers[name];
        if (peer.Info is not null && peer.ConfigHash == configHash)
        {
            peer.LastHeard = now;
            peer.LastHeardPerLan[lan] = now;
            if (Array.IndexOf(peer.GoneOnLan, true) >= 0)
            {
                // Whoever sent this lives: the evidence of its death was wrong or is outdated.
                Array.Fill(peer.GoneOnLan, false);
                Log.GoneHeardAgain(logger, name);
            }
        }
    }

    /// <summary>
    /// The transport saw the peer's process die on <paramref name="lan"/>: its connection broke and its port then refused
    /// a new one (the host is up, nothing listens). Once that is seen on every LAN (a dead process leaves no LAN; a
    /// firewall rule that rejects on one LAN must not count), the peer counts as unreachable now rather than after the
    /// detection timeout, until a message of it arrives again: that process's live table died with it, so its node drops
    /// all VIP traffic already. Returns true when the peer just became gone (an admitted peer that was reachable).
    /// </summary>
    public bool NoteGone(string name, int lan, TimeSpan now)
    {
        if (!peers.TryGetValue(name, out var peer) || peer.Gone || !Reachable(peer, now))
        {
            return false;
        }

        peer.GoneOnLan[lan] = true;
        if (!peer.Gone)
        {
            return false;
        }

        Log.Gone(logger, name, peer.Info!.Incarnation, (now - peer.LastHeard).TotalMilliseconds);
        return true;
    }

    /// <summary>
    /// Records what a heartbeat (request or reply) says about its sender. Returns whether it was admitted (its views
    /// count) and whether the sender's drain report changed.
    /// </summary>
    public HeartbeatNote NoteHeartbeat(
        string name, MemberInfo info, string hash, ViewId? peerInstalled, ViewId? peerPromised, bool witnessLost, DrainReport? drains, int lan, TimeSpan now)
    {
        var peer = peers[name];
        peer.WitnessLost = witnessLost;
        if (!string.Equals(info.Name, peer.Name, StringComparison.Ordinal))
        {
            return default; // the transport authenticated another name than the message carries: ignore
        }

        if (peer.Info is not null && info.Incarnation < peer.Info.Incarnation)
        {
            return default; // a message from a previous run of that node
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
            return default;
        }

        peer.ConfigHash = hash;
        peer.Info = info;
        NoteHeard(name, lan, now);
        peer.Installed = peerInstalled;
        peer.Promised = peerPromised;
        // Messages can arrive out of order: a report older than the one held (by the view it reflects) is stale.
        if (drains is null || ViewId.Compare(drains.Reflects, peer.Drains?.Reflects) < 0)
        {
            return new HeartbeatNote(Admitted: true, DrainsChanged: false);
        }

        // A report lists only modules with something moving: the others are settled on that peer. Ages change with
        // every heartbeat, so the status copy is refreshed each time.
        peer.DrainStatuses = [.. modules.Select(m => drains.Find(m.Name) is { } part
            ? new ModuleDrainStatus(m.Name, part.Incoming, part.Draining.Length, part.OldestDrainAge)
            : new ModuleDrainStatus(m.Name, 0, 0, null))];
        if (drains.Equals(peer.Drains))
        {
            return new HeartbeatNote(Admitted: true, DrainsChanged: false);
        }

        peer.Drains = drains;
        return new HeartbeatNote(Admitted: true, DrainsChanged: true);
    }

    /// <summary>
    /// Sends <paramref name="heartbeat"/> to every peer on every LAN; when <paramref name="mayBeQuiet"/>, quiet (no answer
    /// asked) to a peer that answered one on that LAN within <see cref="MembershipOptions.QuietSpan"/>.
    /// </summary>
    public void SendHeartbeats(HeartbeatRequest heartbeat, bool mayBeQuiet, RequestLedger requests, TimeSpan now)
    {
        foreach (var peer in peers.Values)
        {
            // Each peer gets our clock and its own echo (the newest send time we got from its current run).
            var loud = heartbeat with { SentAt = now, Echo = peer.Info is { } info && peer.EchoRun == info.Incarnation ? peer.TheirSentAt : null };
            var quiet = mayBeQuiet ? loud with { Quiet = true } : loud;
            for (int lan = 0; lan < options.LanCount; lan++)
            {
                requests.Send(peer.Name, lan, Within(peer.LastAnsweredPerLan[lan], now, options.QuietSpan) ? quiet : loud, now);
            }
        }
    }

    /// <summary>
    /// The clock readings of a heartbeat of <paramref name="sender"/>'s run (admitted: see <see cref="NoteHeartbeat"/>):
    /// its send time, echoed back in our heartbeats, and its echo of ours, a proof that it lived after that moment.
    /// </summary>
    public void NoteClocks(string name, MemberInfo sender, TimeSpan? sentAt, TimeSpan? echo, TimeSpan now)
    {
        var peer = peers[name];
        if (peer.Info is not { } info || !info.IsSameRun(sender))
        {
            return;
        }

        if (sentAt is { } sent)
        {
            if (peer.EchoRun != info.Incarnation || peer.TheirSentAt is not { } newest || sent > newest)
            {
                peer.TheirSentAt = sent;
                peer.EchoRun = info.Incarnation;
            }
        }

        // An echo from the future is not ours (a reading of an earlier run of this process): ignore it.
        if (echo is { } e && e <= now && e > peer.LastProvenAlive)
        {
            peer.LastProvenAlive = e;
        }
    }

    /// <summary>
    /// A peer answered on <paramref name="lan"/>, at <paramref name="now"/>, a heartbeat sent at <paramref name="sentAt"/>,
    /// saying whether its views list us; the round trip counts when the peer is admitted.
    /// </summary>
    public void NoteRoundTrip(string name, int lan, TimeSpan sentAt, bool includesUs, TimeSpan now)
    {
        var peer = peers[name];
        peer.LastAnsweredPerLan[lan] = now;
        if (sentAt > peer.LastProvenAlive && sentAt <= now)
        {
            peer.LastProvenAlive = sentAt; // it answered what we sent then: it lived after that moment
        }

        if (peer.ConfigHash != configHash)
        {
            return;
        }

        if (includesUs && sentAt > peer.LastIncludingRoundTripStart)
        {
            peer.LastIncludingRoundTripStart = sentAt;
        }
        else if (!includesUs && sentAt > peer.LastExcludingRoundTripStart)
        {
            peer.LastExcludingRoundTripStart = sentAt;
        }
    }

    /// <summary>The peer's latest drain report when the run that sent it is a member of <paramref name="installed"/>, else null.</summary>
    public static DrainReport? MemberReport(IPeer peer, ClusterView? installed) =>
        peer.Info is { } info && installed?.Find(peer.Name) is { } member && member.Incarnation == info.Incarnation ? peer.Drains : null;

    /// <summary>The drain reports of the peers whose reporting run is a member of <paramref name="installed"/>, in name order.</summary>
    public IReadOnlyList<DrainReport> MemberReports(ClusterView? installed)
    {
        var result = new List<DrainReport>();
        foreach (var peer in peers.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            if (MemberReport(peer, installed) is { } report)
            {
                result.Add(report);
            }
        }

        return result;
    }

    /// <summary>
    /// The latest drain report (null before any) of every other member of <paramref name="installed"/> whose run we
    /// have not seen restart: a restarted node's new run tracks nothing of the old one.
    /// </summary>
    public List<DrainReport?> ReportsOfMembers(ClusterView installed, string selfName)
    {
        var reports = new List<DrainReport?>(installed.Members.Length);
        foreach (var member in installed.Members)
        {
            if (member.Name == selfName || !peers.TryGetValue(member.Name, out var peer))
            {
                continue;
            }

            if (peer.Info is { } info && info.Incarnation > member.Incarnation)
            {
                continue; // that run is gone (the node restarted): it tracks nothing any more
            }

            reports.Add(peer.Drains);
        }

        return reports;
    }

    private sealed class PeerState(string name, int lanCount) : IPeer
    {
        public string Name { get; } = name;

        public MemberInfo? Info { get; set; }

        public string? ConfigHash { get; set; }

        public TimeSpan LastHeard { get; set; } = TimeSpan.MinValue;

        public TimeSpan[] LastHeardPerLan { get; } = Enumerable.Repeat(TimeSpan.MinValue, lanCount).ToArray();

        public TimeSpan LastIncludingRoundTripStart { get; set; } = TimeSpan.MinValue;

        /// <summary>Per LAN: when the peer last answered a heartbeat (MinValue = never).</summary>
        public TimeSpan[] LastAnsweredPerLan { get; } = Enumerable.Repeat(TimeSpan.MinValue, lanCount).ToArray();

        /// <summary>Start of the latest round trip whose reply said the peer's views do not list us.</summary>
        public TimeSpan LastExcludingRoundTripStart { get; set; } = TimeSpan.MinValue;

        public TimeSpan LastConfirmedRoundTripStart => LastIncludingRoundTripStart;

        public bool ConfirmsSince(TimeSpan since) =>
            LastIncludingRoundTripStart >= since && LastIncludingRoundTripStart > LastExcludingRoundTripStart;

        public bool Contacted { get; set; }

        public TimeSpan LastHeardAny { get; set; } = TimeSpan.MinValue;

        /// <summary>
        /// The latest moment of our clock after which the peer is known to have lived: the send time of our newest
        /// heartbeat it echoed, or of our newest request it answered (MinValue = none).
        /// </summary>
        public TimeSpan LastProvenAlive { get; set; } = TimeSpan.MinValue;

        /// <summary>The peer's heartbeats carry its clock: its release echoes ours, so <see cref="LastProvenAlive"/> counts.</summary>
        public bool Echoes => TheirSentAt is not null;

        /// <summary>The newest send time (the peer's clock) of a heartbeat of run <see cref="EchoRun"/>, echoed back to it.</summary>
        public TimeSpan? TheirSentAt { get; set; }

        /// <summary>The incarnation <see cref="TheirSentAt"/> came from.</summary>
        public long EchoRun { get; set; } = -1;

        public ViewId? InstalledAny { get; set; }

        public ViewId? Installed { get; set; }

        public ViewId? Promised { get; set; }

        public bool WitnessLost { get; set; }

        /// <summary>Per LAN: the connection broke and the port refused since the peer was last heard.</summary>
        public bool[] GoneOnLan { get; } = new bool[lanCount];

        public bool Gone => Array.TrueForAll(GoneOnLan, g => g);

        public DrainReport? Drains { get; set; }

        /// <summary>The peer's hand-over progress per module from its latest heartbeat.</summary>
        public ImmutableArray<ModuleDrainStatus> DrainStatuses { get; set; } = [];
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Node {Node} has config hash {TheirHash}, ours is {OurHash}: it is not admitted until both match")]
        public static partial void ConfigMismatch(ILogger logger, string node, string theirHash, string ourHash);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Warning,
            Message = "Node {Node} (run {Incarnation}) is gone: its port refuses connections, {SinceHeardMs} ms after it was last heard; it is unreachable now, not after the detection timeout")]
        public static partial void Gone(ILogger logger, string node, long incarnation, double sinceHeardMs);

        [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Node {Node}, noted gone, was heard again")]
        public static partial void GoneHeardAgain(ILogger logger, string node);
    }
}

/// <summary>What a heartbeat changed: whether its sender was admitted (its views count), whether its drain report changed.</summary>
internal readonly record struct HeartbeatNote(bool Admitted, bool DrainsChanged);
