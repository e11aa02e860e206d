using System.Collections.Immutable;
using Farm.Cluster.Membership;
using Farm.Core.Buckets;
using Farm.Core.Config;

namespace Farm.Testing.Simulation;

/// <summary>
/// An in-process farm on virtual time: N membership managers connected by an in-memory network that can
/// lose, delay, duplicate and reorder messages, partition nodes (also one way) and crash, restart or pause
/// them. The data plane is modelled by each manager's lease and bucket states, which a crashed or paused
/// node keeps (the kernel keeps filtering) until its lease lapses. After every event the invariants are checked.
/// </summary>
public sealed partial class SimCluster
{
    public const string Module = "web";

    private readonly PriorityQueue<SimEvent, (TimeSpan, long)> events = new();
    private readonly HashSet<(string From, string To)> blocked = [];
    private readonly HashSet<(string, string)> unmerged = [];
    private readonly HashSet<int> downLans = [];
    private readonly Random random;
    private long sequence;

    /// <summary>
    /// A farm of <paramref name="nodeCount"/> nodes, not started. Timings <paramref name="heartbeat"/>; by default pinned to
    /// 100 ms (or <paramref name="interval"/>) / 1 s / 600 ms, not the cluster file defaults.
    /// </summary>
    public SimCluster(
        int nodeCount, SplitBrainPolicy policy, int seed, int bucketCount = 256, TimeSpan? interval = null, int lanCount = 1, bool tracksDrains = false, HeartbeatOptions? heartbeat = null)
    {
        random = new Random(seed);
        Seed = seed;
        var names = Enumerable.Range(1, nodeCount).Select(i => $"n{i:D2}").ToImmutableArray();
        Options = new MembershipOptions
        {
            ConfiguredNodes = names,
            SplitBrainPolicy = policy,
            // Pinned (not the cluster file defaults): the fault schedules and their bounds were tuned for these.
            Heartbeat = heartbeat ?? new() { Interval = interval ?? TimeSpan.FromMilliseconds(100), DetectionTimeout = TimeSpan.FromSeconds(1), Lease = TimeSpan.FromMilliseconds(600) },
            LanCount = lanCount,
            TracksDrains = tracksDrains,
        };
        Modules = [new ModuleSpec(Module, bucketCount, BucketMode.Balance, false) { DrainTimeout = TimeSpan.FromSeconds(2), Hash = "mod-1", Settings = ["seed=1"] }];
        Nodes = names.Select(n => new SimNode(n)).ToImmutableArray();
        ModuleOf = _ => Modules[0];
    }

    public int Seed { get; }

    public MembershipOptions Options { get; }

    public ImmutableArray<ModuleSpec> Modules { get; }

    public ImmutableArray<SimNode> Nodes { get; }

    public TimeSpan Now { get; private set; }

    /// <summary>Probability that a message is lost.</summary>
    public double Loss { get; set; }

    /// <summary>Probability that a message is delivered twice.</summary>
    public double Duplication { get; set; }

    /// <summary>When set, every node also calls <see cref="MembershipManager.Poll"/> at this interval between ticks (as farmd does).</summary>
    public TimeSpan? PollInterval { get; set; }

    /// <summary>Heartbeat LANs that carry nothing (a switch or cable failure); see <see cref="SetLanDown"/>.</summary>
    public IReadOnlySet<int> DownLans => downLans;

    /// <summary>Takes a heartbeat LAN down; when no LAN is left, every pair of nodes is separated (a partition).</summary>
    public void SetLanDown(int lan)
    {
        downLans.Add(lan);
        Note($"LAN {lan} down");
        if (downLans.Count >= Options.LanCount)
        {
            foreach (var a in Nodes)
            {
                foreach (var b in Nodes.Where(b => string.CompareOrdinal(a.Name, b.Name) < 0))
                {
                    MarkSeparated(a.Name, b.Name);
                }
            }
        }
    }

    /// <summary>Largest one-way delay; each message gets a random delay up to it (so messages reorder).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Set to check the invariants only at ticks (large clusters).</summary>
    public bool CheckOnTicksOnly { get; set; }

    /// <summary>A node's config hash; change it to model a node with a different cluster file.</summary>
    public Func<string, string> ConfigHashOf { get; set; } = _ => "cfg-1";

    /// <summary>
    /// A node's definition of the module (its <see cref="ModuleSpec"/> with hash and settings), read at each start;
    /// return another to model a node whose farm.yaml differs (e.g. another seed or bucket count). Default: <see cref="Modules"/>.
    /// </summary>
    public Func<string, ModuleSpec> ModuleOf { get; set; }

    /// <summary>The invariant checker, run after every event.</summary>
    public InvariantChecker Invariants { get; set; } = null!;

    /// <summary>
    /// When set (with drain tracking on), the flows of the data plane: checked after every event, and what the drain
    /// monitors report (busy buckets and their flows) instead of <see cref="DrainBusy"/>.
    /// </summary>
    public FlowModel? Flows { get; set; }

    /// <summary>Also trace every node's own log lines (proposals, installs, lease resumptions).</summary>
    public bool VerboseTrace { get; set; }

    /// <summary>Called for every request a node sends (before loss is applied): (sender, request).</summary>
    public Action<string, OutboundRequest>? Sent { get; set; }

    /// <summary>Called for every reply a node sends (before loss is applied): (replier, requester, reply).</summary>
    public Action<string, string, MembershipMessage>? Replied { get; set; }

    /// <summary>When set, the requests it returns true for are lost (sender, request): a test drops chosen messages.</summary>
    public Func<string, OutboundRequest, bool>? Drops { get; set; }

    /// <summary>
    /// With drain tracking on: whether a node still tracks a live connection in a bucket it drains (node, bucket). Each
    /// node reports to its manager after every ownership change and every tick, as farmd's drain monitor does. Default:
    /// busy (drains run to their timeout).
    /// </summary>
    public Func<string, int, bool> DrainBusy { get; set; } = (_, _) => true;

    /// <summary>Changes what a node announces about itself (e.g. leaving for a drain), as farmctl drain and resume do.</summary>
    public void SetLeaving(string name, bool leaving)
    {
        var manager = this[name].Manager!;
        manager.UpdateSelf(manager.Self with { Leaving = leaving });
        Note($"{name} leaving = {leaving}");
    }

    /// <summary>Changes a running node's weight the way a live config change would.</summary>
    public void SetWeight(string name, int weight)
    {
        var node = this[name];
        node.Weight = weight;
        node.Manager!.UpdateSelf(node.Manager.Self with { Weight = weight });
        Note($"weight {name} = {weight}");
    }

    /// <summary>Every view any node installed, in order: (time, node, view).</summary>
    public List<(TimeSpan At, string Node, ClusterView View)> Installs { get; } = [];

    /// <summary>What happened (faults and installs), for failure messages.</summary>
    public List<string> Trace { get; } = [];

    public void Note(string what) => Trace.Add($"{Now.TotalMilliseconds:F1} ms: {what}");

    public SimNode this[string name] => Nodes.Single(n => n.Name == name);

    /// <summary>Starts every node at once (each at a random phase within one interval).</summary>
    public SimCluster StartAll()
    {
        Invariants = new InvariantChecker(this);
        foreach (var node in Nodes)
        {
            Start(node, Now + RandomDelay(Options.HeartbeatInterval));
        }

        return this;
    }

    public void Start(SimNode node, TimeSpan at)
    {
        node.Incarnation++;
        node.State = SimNodeState.Up;
        node.Driver = new MembershipDriver(
            Options,
            new MemberInfo(node.Name, node.Incarnation, node.Weight, 0, false, [Module]),
            ConfigHashOf(node.Name),
            [ModuleOf(node.Name)],
            at,
            VerboseTrace ? new TraceLogger(this, node.Name) : null);
        node.LastInstalled = null;
        node.ReportedVersion = -1;
        node.ProcessGone = false;
        node.Starved = false;
        node.Held.Clear();
        node.ProbeWaitingSince = null;
        node.ProbeRan = null;
        Schedule(at, new TickEvent(node, node.Incarnation));
        if (PollInterval is { } poll)
        {
            Schedule(at + poll, new PollEvent(node, node.Incarnation));
        }
    }

    /// <summary>
    /// Crashes <paramref name="name"/>. With <paramref name="processGone"/>, only its daemon died and its host stays up
    /// (kill -9): its kernel stops accepting at once (the live table dies with the process), and every node that can
    /// reach it sees its connection break and its port refuse, <paramref name="noticeAfter"/> later plus a millisecond per
    /// node in order (farmd's crash fast path: <see cref="MembershipManager.NotePeerGone"/>, then a coordinator step).
    /// <paramref name="noticeOf"/> overrides that delay for the nodes it names; <see cref="TimeSpan.MaxValue"/>: that
    /// node's own connection never shows it (it learns from a peer's <see cref="HeartbeatRequest.Gone"/> and its own
    /// probe, or after the detection timeout).
    /// </summary>
    public void Crash(string name, bool processGone = false, TimeSpan noticeAfter = default, IReadOnlyDictionary<string, TimeSpan>? noticeOf = null)
    {
        var node = this[name];
        Note($"crash {name}{(processGone ? " (process gone, host up)" : "")}");
        node.State = SimNodeState.Crashed; // the manager object stays: it is the kernel's leftover state
        node.ProcessGone = processGone;
        if (!processGone)
        {
            return;
        }

        // Each peer's probe ends at its own time: one more millisecond for each, so a coordinator may hear "still heard"
        // from a member that has not noticed yet.
        int k = 0;
        foreach (var other in Nodes.Where(n => n != node && !IsBlocked(n.Name, name)))
        {
            var delay = noticeOf is not null && noticeOf.TryGetValue(other.Name, out var own) ? own : noticeAfter + TimeSpan.FromMilliseconds(k);
            k++;
            if (delay != TimeSpan.MaxValue)
            {
                Schedule(Now + delay, new GoneEvent(other, other.Incarnation, name));
            }
        }
    }

    public void Restart(string name)
    {
        var node = this[name];
        Note($"restart {name}");
        Start(node, Now);
    }

    /// <summary>
    /// Stops <paramref name="name"/>'s process for <paramref name="duration"/> (SIGSTOP, a stall): it skips its ticks, and
    /// what reaches it waits in its sockets until it resumes. <paramref name="tickFirst"/>: it resumes with a tick before
    /// it reads those messages (farmd's heartbeat thread runs at a higher priority than the threads that read them).
    /// </summary>
    public void Pause(string name, TimeSpan duration, bool tickFirst = false)
    {
        var node = this[name];
        if (node.State != SimNodeState.Up)
        {
            return;
        }

        node.State = SimNodeState.Paused;
        Note($"pause {name} for {duration.TotalMilliseconds} ms");
        Schedule(Now + duration, new ResumeEvent(node, node.Incarnation, tickFirst));
    }

    /// <summary>
    /// Starves <paramref name="name"/>'s ordinary threads for <paramref name="duration"/> while its real-time heartbeat
    /// thread runs (a loaded machine; farmd's thread pool blocked): it ticks and polls, but what reaches it waits in its
    /// sockets and what it sends waits in its process until the starvation ends. With <see cref="ProbesReaders"/>, it
    /// probes its readers as farmd does (<see cref="MembershipManager.NoteReaders"/>): a probe queued while a peer is late
    /// runs when the starvation ends.
    /// </summary>
    public void Starve(string name, TimeSpan duration)
    {
        var node = this[name];
        if (node.State != SimNodeState.Up || node.Starved)
        {
            return;
        }

        node.Starved = true;
        Note($"starve {name} for {duration.TotalMilliseconds} ms");
        Schedule(Now + duration, new FedEvent(node, node.Incarnation));
    }

    /// <summary>True (the default): starved nodes probe their readers as farmd does; false models a farmd without the probe.</summary>
    public bool ProbesReaders { get; set; } = true;

    /// <summary>Before a tick or poll of <paramref name="node"/>: its probe of its readers, as farmd's host runs it.</summary>
    private void ProbeReaders(SimNode node)
    {
        if (!ProbesReaders)
        {
            return;
        }

        if (node.ProbeWaitingSince is null && node.Manager!.AnyPeerLate(Now))
        {
            if (node.Starved)
            {
                node.ProbeWaitingSince = Now; // runs when the starvation ends
            }
            else
            {
                node.ProbeRan = (Now, Now); // a pool that runs takes it up at once
            }
        }

        node.Manager!.NoteReaders(node.ProbeWaitingSince, node.ProbeRan?.Queued, node.ProbeRan?.Ran);
    }

    /// <summary>Cuts all links between the two groups (both directions).</summary>
    public void Partition(IEnumerable<string> sideA, IEnumerable<string> sideB)
    {
        var b = sideB.ToList();
        foreach (var x in sideA)
        {
            foreach (var y in b)
            {
                Block(x, y);
                Block(y, x);
            }
        }
    }

    /// <summary>Messages from <paramref name="from"/> to <paramref name="to"/> are lost (to still reaches from).</summary>
    public void Block(string from, string to)
    {
        blocked.Add((from, to));
        Note($"block {from}->{to}");
        MarkSeparated(from, to);
    }

    public void HealNetwork()
    {
        Note("heal network");
        foreach (var (a, b) in blocked)
        {
            MarkSeparated(a, b);
        }

        blocked.Clear();
    }

    public bool IsBlocked(string from, string to) => blocked.Contains((from, to));

    public bool AnyBlocked => blocked.Count > 0;

    public void RunFor(TimeSpan duration) => RunUntil(Now + duration);

    public void RunUntil(TimeSpan end)
    {
        while (events.TryPeek(out _, out var key) && key.Item1 <= end)
        {
            var e = events.Dequeue();
            Now = key.Item1;
            bool tick = e is TickEvent;
            e.Run(this);
            if (!CheckOnTicksOnly || tick)
            {
                Invariants.Check();
                Flows?.Check();
            }
        }

        Now = end;
    }

    /// <summary>Runs until every Up node has installed one view listing exactly the Up nodes, or the time limit.</summary>
    public bool RunUntilConverged(TimeSpan limit, out TimeSpan convergedAt)
    {
        var end = Now + limit;
        var step = Options.HeartbeatInterval / 4;
        while (Now < end)
        {
            RunFor(step);
            if (IsConverged())
            {
                convergedAt = Now;
                return true;
            }
        }

        convergedAt = Now;
        return false;
    }

    public bool IsConverged()
    {
        var up = Nodes.Where(n => n.State == SimNodeState.Up).ToList();
        if (up.Count == 0)
        {
            return true;
        }

        var first = up[0].Manager!.Installed;
        if (first is null)
        {
            return false;
        }

        foreach (var node in up)
        {
            var view = node.Manager!.Installed;
            // The view lists each node as it describes itself now (weight, ready modules...): nothing left to propose.
            if (view is null || view.Id != first.Id || !Equals(view.Find(node.Name), node.Manager.Self) || view.Members.Length != up.Count)
            {
                return false;
            }
        }

        // Every bucket accepted by exactly one node.
        var table = first.Tables[Module];
        for (int b = 0; b < table.BucketCount; b++)
        {
            int acceptors = Nodes.Count(n => n.Manager is not null && n.Manager.AcceptsNewFlows(Module, b, Now));
            if (acceptors != 1)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// What farmd's drain monitor does: after the data plane applied a snapshot (at once here), scan and report. Returns
    /// the requests the report causes.
    /// </summary>
    private IReadOnlyList<OutboundRequest> ReportDrains(SimNode node, bool force)
    {
        if (!Options.TracksDrains || node.Driver is not { } driver || node.State != SimNodeState.Up)
        {
            return [];
        }

        var applied = driver.Manager.Ownership;
        var states = applied.Modules[Module];
        if (applied.Version == node.ReportedVersion && (!force || states.Draining == 0))
        {
            return [];
        }

        node.ReportedVersion = applied.Version;
        var busy = states.BucketsIn(BucketState.Draining).Where(b => Flows?.Tracks(node.Name, b) ?? DrainBusy(node.Name, b)).ToHashSet();
        var scan = new ModuleDrainScan(busy, Flows?.FlowsIn(node.Name, busy) ?? []);
        return driver.ReportDrains(applied, new Dictionary<string, ModuleDrainScan> { [Module] = scan }, Now).Outbox;
    }

    public string Describe()
    {
        var lines = Nodes.Select(n =>
            $"{n.Name} {n.State} inc={n.Incarnation} installed={n.Manager?.Installed?.Id} members=[{string.Join(",", n.Manager?.Installed?.Members.Select(m => m.Name) ?? [])}] " +
            $"promised={n.Manager?.Promised?.Id} lease={(n.Manager is { } m && m.LeaseExpiry > Now ? "valid" : "lapsed")} " +
            $"owned={n.Manager?.Ownership.Modules[Module].Owned} incoming={n.Manager?.Ownership.Modules[Module].Incoming} draining={n.Manager?.Ownership.Modules[Module].Draining}");
        return $"seed={Seed} t={Now.TotalMilliseconds}ms\n" + string.Join("\n", lines) +
            "\ntrace (last 150):\n" + string.Join("\n", Trace.TakeLast(150));
    }

    private static (string, string) Key(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);

    private void MarkSeparated(string a, string b)
    {
        unmerged.Add(Key(a, b));
    }

    /// <summary>True when a partition separated the two and they have not shared an installed view since.</summary>
    public bool SeparatedAndNotMerged(string a, string b) =>
        unmerged.Contains(Key(a, b)) || blocked.Contains((a, b)) || blocked.Contains((b, a)) || downLans.Count >= Options.LanCount;

    private TimeSpan RandomDelay(TimeSpan max) => TimeSpan.FromTicks((long)(random.NextDouble() * max.Ticks));

    private void Schedule(TimeSpan at, SimEvent e) => events.Enqueue(e, (at, ++sequence));

    /// <summary>
    /// After a call of the node's driver: the drain monitor reports; the requests of the call, then those of a report made
    /// since the call (<paramref name="reportedSince"/>), then those of this report go out; a new install is recorded.
    /// </summary>
    private void Apply(SimNode node, MembershipEffects effects, IReadOnlyList<OutboundRequest>? reportedSince = null)
    {
        var reported = ReportDrains(node, force: false);
        Send(node, effects.Outbox);
        Send(node, reportedSince ?? []);
        Send(node, reported);
        RecordInstall(node);
    }

    private void Send(SimNode node, IReadOnlyList<OutboundRequest> requests)
    {
        foreach (var request in requests)
        {
            if (node.Starved)
            {
                node.Held.Add(request); // the writers do not run
                continue;
            }

            Sent?.Invoke(node.Name, request);
            if (Drops?.Invoke(node.Name, request) == true)
            {
                continue; // lost: the sender's request expires
            }

            var target = this[request.To];
            int copies = random.NextDouble() < Duplication ? 2 : 1;
            for (int i = 0; i < copies; i++)
            {
                if (IsBlocked(node.Name, target.Name) || DownLans.Contains(request.Lan) || random.NextDouble() < Loss)
                {
                    continue; // lost: the sender's request expires
                }

                Schedule(Now + RandomDelay(MaxDelay), new DeliverRequest(node, node.Incarnation, target, request));
            }
        }
    }

    private void RecordInstall(SimNode node)
    {
        var view = node.Manager!.Installed;
        if (view is not null && view.Id != node.LastInstalled)
        {
            node.LastInstalled = view.Id;
            Installs.Add((Now, node.Name, view));
            foreach (var other in Nodes)
            {
                if (other != node && other.Manager?.Installed?.Id == view.Id && view.Contains(node.Manager.Self) && view.Contains(other.Manager.Self) &&
                    !IsBlocked(node.Name, other.Name) && !IsBlocked(other.Name, node.Name))
                {
                    unmerged.Remove(Key(node.Name, other.Name));
                }
            }

            Note($"{node.Name} installed {view.Id} [{string.Join(",", view.Members.Select(m => m.Name + "#" + m.Incarnation))}]");
        }
    }
}
