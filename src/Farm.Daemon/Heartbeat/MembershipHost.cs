using System.Collections.Concurrent;
using Farm.Core.Scheduling;

namespace Farm.Daemon.Heartbeat;

/// <summary>
/// Runs a <see cref="MembershipManager"/> in farmd through its <see cref="MembershipDriver"/> (the one the simulation
/// uses too): serializes every call under one lock (never held during I/O), ticks it on a dedicated thread, and after
/// every step hands a changed ownership to the sinks and the outbox to the transport.
/// </summary>
/// <remarks>
/// The tick thread is not a thread-pool thread: thread-pool starvation (or a burst of slow handlers) must not
/// look like a dead peer or stop the lease refresh. It reads time from <see cref="TimeProvider"/> but sleeps on an
/// OS wait handle, because TimeProvider timers fire on the thread pool.
/// <para>
/// Between ticks it sleeps until the next moment the coordinator may have something to do (see
/// <see cref="MembershipDriver.NextPollAt"/>): in a settled view that is the earliest detection deadline of the peers it hears, and
/// a message that changes what a peer says wakes it at once. An idle node thus wakes once per interval instead of
/// every <see cref="PollInterval"/>, with the same reaction time to a lost or returning peer.
/// </para>
/// </remarks>
internal sealed partial class MembershipHost : IDrainReportSink, IDisposable
{
    /// <summary>How often the heartbeat thread polls the coordinator between ticks while the view is not settled.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The heartbeat thread's real-time priority (SCHED_RR, 1-99): low among real-time threads (the kernel's own run at
    /// 50 and above), above every ordinary thread, so a partner application saturating the cores cannot stall the lease.
    /// </summary>
    public const int HeartbeatPriority = 10;

    private readonly Lock gate = new();
    private readonly MembershipDriver driver;
    private readonly TimeProvider timeProvider;
    private readonly long startTimestamp;
    private readonly TimeSpan interval;
    private readonly ILogger logger;
    // Set by Stop and by messages the coordinator must act on; no spinning: waits last milliseconds at least.
    private readonly ManualResetEventSlim wake = new(false, spinCount: 0);
    private volatile bool stopping;
    private TimeSpan nextPollAt = TimeSpan.Zero;
    private IPeerTransport? transport;
    private readonly Dictionary<string, TimeSpan> probedAt = new(StringComparer.Ordinal); // ToProbe, under gate
    private readonly List<IOwnershipSink> sinks = [];
    private readonly ConcurrentQueue<MembershipEffects> deferred = new(); // DeliverBehind
    private int deferring; // 1 while a pool thread delivers what is deferred
    private readonly LeaseWriter leaseWriter;
    private Thread? thread;
    private long ticks;
    private long polls;
    private IThreadPriority? threadPriority;
    private IReaderProbe? readerProbe;
    private TimeSpan? stallReported; // since when the readers' probe waits, once logged (heartbeat thread only)

    /// <summary>Creates the manager at time zero of this host's monotonic clock.</summary>
    public MembershipHost(
        MembershipOptions options, MemberInfo self, string configHash, IReadOnlyList<ModuleSpec> modules, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        startTimestamp = timeProvider.GetTimestamp();
        interval = options.HeartbeatInterval;
        Options = options;
        ConfigHash = configHash;
        logger = loggerFactory.CreateLogger<MembershipHost>();
        driver = new MembershipDriver(options, self, configHash, modules, TimeSpan.Zero, loggerFactory.CreateLogger<MembershipManager>());
        Limits = MessageLimits.For(options, modules);
        leaseWriter = new LeaseWriter(() => Now, sinks, logger);
    }

    /// <summary>The protocol options.</summary>
    public MembershipOptions Options { get; }

    /// <summary>This node's cluster file hash.</summary>
    public string ConfigHash { get; }

    /// <summary>What a peer's message may carry here (members, modules, each module's bucket count): pass it to <see cref="MessageMapper"/>.</summary>
    public MessageLimits Limits { get; }

    /// <summary>Monotonic time since the host was created: the manager's clock.</summary>
    public TimeSpan Now => timeProvider.GetElapsedTime(startTimestamp);

    /// <summary>Number of ticks run so far (tests and status use it to see the thread is alive).</summary>
    public long Ticks => Interlocked.Read(ref ticks);

    /// <summary>When the heartbeat thread polls next unless woken (host time, <see cref="Now"/>), as of the last tick or poll.</summary>
    internal TimeSpan NextPollDue
    {
        get
        {
            lock (gate)
            {
                return nextPollAt;
            }
        }
    }

    /// <summary>True while a message asked the coordinator to act and the heartbeat thread has not polled since.</summary>
    internal bool WakePending => wake.IsSet;

    /// <summary>Number of polls between ticks so far (tests see the thread sleep while nothing is due).</summary>
    public long Polls => Interlocked.Read(ref polls);

    /// <summary>True once <see cref="Start"/> ran and before <see cref="Stop"/>.</summary>
    public bool IsRunning => thread is not null && !stopping;

    /// <summary>Connects the transport that sends the outbox; call once before <see cref="Start"/>.</summary>
    public void Attach(IPeerTransport peerTransport) => transport = peerTransport ?? throw new ArgumentNullException(nameof(peerTransport));

    /// <summary>
    /// Connects the data plane (and the module host): every ownership change is published to each sink, in attach order,
    /// before the messages the change causes are sent (commits excepted: see <see cref="Deliver"/>), and every lease
    /// extension is passed on. Attach before
    /// <see cref="Start"/>; the data plane first, so the kernel holds a change before anything reacts to it.
    /// </summary>
    public void AttachSink(IOwnershipSink ownershipSink)
    {
        sinks.Add(ownershipSink ?? throw new ArgumentNullException(nameof(ownershipSink)));
        lock (gate)
        {
            driver.PublishesOwnership = true;
        }
    }

    /// <summary>
    /// Raise the heartbeat thread to real-time priority with <paramref name="priority"/> when it starts (farmd does; tests
    /// that start many hosts need not). A refusal is logged as a warning and the thread runs at normal priority.
    /// </summary>
    public void UseRealtimePriority(IThreadPriority priority) => threadPriority = priority ?? throw new ArgumentNullException(nameof(priority));

    /// <summary>
    /// Before each tick and poll while a peer is late, probes with <paramref name="probe"/> whether the threads that read
    /// the peers' messages run, and tells the manager (<see cref="MembershipManager.NoteReaders"/>): a silence this process
    /// caused by not reading is not counted as its peers'.
    /// </summary>
    public void UseReaderProbe(IReaderProbe probe) => readerProbe = probe ?? throw new ArgumentNullException(nameof(probe));

    /// <summary>Starts the heartbeat thread.</summary>
    public void Start()
    {
        if (transport is null)
        {
            throw new InvalidOperationException("Attach a transport before starting.");
        }

        if (thread is not null)
        {
            throw new InvalidOperationException("The heartbeat thread is already running.");
        }

        leaseWriter.Start(threadPriority, HeartbeatPriority);
        thread = new Thread(Run)
        {
            Name = "farm-heartbeat",
            IsBackground = true,
            Priority = ThreadPriority.AboveNormal,
        };
        thread.Start();
    }

    /// <summary>Stops the heartbeat thread and waits for it.</summary>
    public void Stop()
    {
        stopping = true;
        wake.Set();
        if (thread is { } t && t != Thread.CurrentThread)
        {
            t.Join();
        }

        leaseWriter.Stop();
    }

    /// <summary>Reads manager state under the lock; <paramref name="reader"/> must be quick and do no I/O.</summary>
    public T Read<T>(Func<MembershipManager, TimeSpan, T> reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        lock (gate)
        {
            return reader(driver.Manager, Now);
        }
    }

    /// <summary>Answers a request from an authenticated peer and sends whatever the manager wants sent next.</summary>
    public MembershipMessage HandleRequest(string from, int lan, MembershipMessage request)
    {
        MembershipMessage reply;
        MembershipEffects effects;
        List<string>? probe = null;
        string trigger = string.Empty;
        lock (gate)
        {
            (reply, effects) = driver.HandleRequest(from, lan, request, Now);

            // A Prepare of the view this node already promised (the coordinator resends one that was not answered in
            // time) is acknowledged again with nothing new to publish, while the handler of the first copy may still
            // be waiting to put that promise into the kernel. This acknowledgement too must wait for it: publish the
            // current ownership again (a sink that already holds it returns once any apply in progress is done).
            // Without this, a coordinator committed on the second ack and the new owner claimed buckets the old one
            // still accepted for 32 ms (chaos soak, 2026-12-05).
            if (reply is PrepareReply { Accepted: true } && effects.Changed is null && sinks.Count > 0)
            {
                effects = effects with { Changed = driver.Manager.Ownership };
            }

            if (reply is PrepareReply { Accepted: false, StillHeard.IsDefaultOrEmpty: false } refused)
            {
                probe = ToProbe(SilentPeers(refused), Now);
                trigger = "a proposal leaves it out and it has been silent";
            }
            else if (request is HeartbeatRequest { Gone.Count: > 0 } heartbeat)
            {
                // A peer saw processes die that this node still hears (HeartbeatRequest.Gone): their ports are probed now
                // rather than when this node's own connections to them break (the list comes with every heartbeat of that
                // peer until the dead process is back; ToProbe keeps it to once an interval).
                probe = ToProbe(driver.Manager.GoneToConfirm(heartbeat, Now), Now);
                trigger = $"{from} saw it die";
            }
        }

        if (effects.WakesCoordinator)
        {
            wake.Set();
        }

        // Into the kernel before the reply leaves: a Prepare's acknowledgement promises the released buckets drain. A
        // heartbeat's answer promises nothing about the kernel: see DeliverBehind.
        if (request is HeartbeatRequest)
        {
            DeliverBehind(effects);
        }
        else
        {
            Deliver(effects);
        }

        foreach (string peer in probe ?? [])
        {
            transport?.ProbeGone(peer, trigger);
        }

        return reply;
    }

    /// <summary>
    /// This node refused a proposal that leaves out runs it still hears (a member acknowledges only a view with every
    /// node it hears). Of those, the ones silent for a heartbeat interval (a live node speaks every interval) get their
    /// port probed now, as after a broken stream: a farmd killed on a live host refuses, and this node stops hearing it
    /// at once instead of when the end of its own stream reaches it (measured: ~55 ms after the coordinator, whose
    /// proposals were refused meanwhile). The coordinator retries every 10 ms: <see cref="ToProbe"/> keeps it to one
    /// probe per peer and interval.
    /// </summary>
    private IEnumerable<string> SilentPeers(PrepareReply refused)
    {
        for (int i = 0; i < refused.StillHeard.Length && i < refused.StillHeardFor.Length; i++)
        {
            if (Options.DetectionTimeout - refused.StillHeardFor[i] >= Options.HeartbeatInterval)
            {
                yield return refused.StillHeard[i].Name;
            }
        }
    }

    /// <summary>Of <paramref name="candidates"/>, the peers whose port was not probed within an interval, noted as probed now; null when none. Under <c>gate</c>.</summary>
    private List<string>? ToProbe(IEnumerable<string> candidates, TimeSpan now)
    {
        List<string>? result = null;
        foreach (string peer in candidates)
        {
            if (MayProbe(peer, now))
            {
                (result ??= []).Add(peer);
            }
        }

        return result;
    }

    /// <summary>True, and noted, unless <paramref name="peer"/>'s port was probed less than an interval ago. Under <c>gate</c>.</summary>
    private bool MayProbe(string peer, TimeSpan now)
    {
        if (probedAt.TryGetValue(peer, out var last) && now - last < Options.HeartbeatInterval)
        {
            return false;
        }

        probedAt[peer] = now;
        return true;
    }

    /// <summary>Delivers an authenticated reply.</summary>
    public void HandleReply(long correlationId, MembershipMessage reply)
    {
        MembershipEffects effects;
        lock (gate)
        {
            effects = driver.HandleReply(correlationId, reply, Now);
        }

        if (effects.WakesCoordinator)
        {
            wake.Set();
        }

        if (reply is HeartbeatReply)
        {
            DeliverBehind(effects);
        }
        else
        {
            Deliver(effects);
        }
    }

    /// <summary>
    /// Delivers what a heartbeat changed without holding up the heartbeats behind it. A heartbeat (or its answer) that
    /// changes the ownership (a peer's drain report ends a claim or changes the flows not to answer) would otherwise apply
    /// it to the kernel on the thread that handles the heartbeat, waiting for the data plane's lock behind other applies
    /// and stale-entry deletions; every later heartbeat on that stream, and its answer, waited too. A node whose
    /// heartbeats changed its peers' ownership (a rejoin, a drain) got its answers 100-300 ms late and, under
    /// <c>majority</c>, lost its lease though it heard every peer (chaos soak, 2026-12-05, event 1009). Nothing waits for
    /// these applies: a heartbeat's answer says what this node's views list, not what its kernel holds, and heartbeats
    /// release no bucket (only a Prepare does, and its acknowledgement still waits). The effects keep their order: one
    /// pool thread at a time delivers them, the publish before the messages it caused, as <see cref="Deliver"/> does.
    /// </summary>
    private void DeliverBehind(MembershipEffects effects)
    {
        if (effects.Changed is null)
        {
            Deliver(effects); // only messages to send: they never wait
            return;
        }

        deferred.Enqueue(effects);
        if (Interlocked.Exchange(ref deferring, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static host => host.DeliverDeferred(), this, preferLocal: false);
        }
    }

    private void DeliverDeferred()
    {
        while (true)
        {
            while (deferred.TryDequeue(out var effects))
            {
                try
                {
                    Deliver(effects);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Log.DeferredDeliveryFailed(logger, ex);
                }
            }

            Volatile.Write(ref deferring, 0);
            if (deferred.IsEmpty || Interlocked.Exchange(ref deferring, 1) != 0)
            {
                return;
            }
        }
    }

    /// <summary>Signs of life from <paramref name="peer"/> that are not messages yet (a connection opened, a first contact).</summary>
    public void NoteContact(string peer)
    {
        lock (gate)
        {
            driver.Manager.NoteContact(peer);
        }
    }

    /// <summary>
    /// The transport saw <paramref name="peer"/>'s process die on <paramref name="lan"/> (its connection broke, its port
    /// refuses connections); once on every LAN, the coordinator may remove it now instead of after the detection timeout.
    /// </summary>
    /// <returns>True when the peer just became gone (the manager logs it); false when nothing changed.</returns>
    public bool NotePeerGone(string peer, int lan)
    {
        bool changed;
        lock (gate)
        {
            changed = driver.Manager.NotePeerGone(peer, lan, Now);
        }

        if (changed)
        {
            wake.Set();
        }

        return changed;
    }

    /// <summary>Reports a failed request (transport error, deadline, refused reply).</summary>
    public void HandleFailure(long correlationId)
    {
        MembershipEffects effects;
        lock (gate)
        {
            effects = driver.HandleFailure(correlationId, Now);
        }

        Deliver(effects);
    }

    /// <summary>Changes what this node says about itself (e.g. leaving on SIGTERM).</summary>
    public void UpdateSelf(Func<MemberInfo, MemberInfo> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (gate)
        {
            driver.Manager.UpdateSelf(change(driver.Manager.Self));
        }

        // What this node says about itself is part of the view: the coordinator reacts now, not at the next tick.
        wake.Set();
    }

    /// <summary>
    /// Loads module <paramref name="name"/> live as <paramref name="spec"/>, redefines it, or unloads it (null): see
    /// <see cref="MembershipManager.SetModule"/>. The new ownership reaches the sinks at the next tick.
    /// </summary>
    public void SetModule(string name, ModuleSpec? spec)
    {
        lock (gate)
        {
            driver.Manager.SetModule(name, spec, Now);
        }

        wake.Set();
    }

    /// <summary>
    /// Reports what the data plane found after it applied <paramref name="applied"/>: which draining buckets still hold
    /// connections (see <see cref="MembershipManager.ReportDrains"/>); ended drains reach the sinks, reports the peers.
    /// </summary>
    public void ReportDrains(OwnershipSnapshot applied, IReadOnlyDictionary<string, ModuleDrainScan> scans)
    {
        MembershipEffects effects;
        lock (gate)
        {
            effects = driver.ReportDrains(applied, scans, Now);
        }

        Deliver(effects);
    }

    /// <summary>Reports that the split-brain witness answered a probe started at <paramref name="probeStart"/> (host time, <see cref="Now"/>).</summary>
    public void ReportWitnessReached(TimeSpan probeStart)
    {
        lock (gate)
        {
            driver.Manager.ReportWitnessReached(probeStart);
        }
    }

    /// <summary>One tick: the heartbeat thread calls it each interval; tests may call it directly.</summary>
    public void Step()
    {
        MembershipEffects effects;
        long began = timeProvider.GetTimestamp();
        long locked, ticked;
        lock (gate)
        {
            locked = timeProvider.GetTimestamp();
            TimeSpan now = Now;
            NoteReaders(now);
            effects = driver.Tick(now);
            nextPollAt = driver.NextPollAt(now, PollInterval);
            ticked = timeProvider.GetTimestamp();
        }

        Interlocked.Increment(ref ticks);

        // The lease first: it is the time-critical part. Written on its own thread, so a data plane busy applying delays
        // the kernel's lease (it fails closed) but not this thread's heartbeats.
        if (effects.LeaseExtendedTo is { } leaseExpiry)
        {
            leaseWriter.Post(leaseExpiry);
        }

        Deliver(effects);
        lastStep = (timeProvider.GetElapsedTime(began, locked), timeProvider.GetElapsedTime(locked, ticked), timeProvider.GetElapsedTime(ticked));
    }

    /// <summary>Probes the readers while a peer is late and tells the manager (<see cref="UseReaderProbe"/>); logs a probe that waits a detection timeout. Under <c>gate</c>.</summary>
    private void NoteReaders(TimeSpan now)
    {
        if (readerProbe is null)
        {
            return;
        }

        var probe = readerProbe.Probe(now, start: driver.Manager.AnyPeerLate(now));
        driver.Manager.NoteReaders(probe.WaitingSince, probe.LastQueued, probe.LastRan);
        if (probe.WaitingSince is { } since && now - since >= Options.DetectionTimeout && stallReported != since)
        {
            stallReported = since;
            Log.ReadersStalled(logger, (now - since).TotalMilliseconds);
        }
        else if (probe.WaitingSince is null && stallReported is { } began && probe.LastQueued == began && probe.LastRan is { } ran)
        {
            stallReported = null;
            Log.ReadersRanAgain(logger, (ran - began).TotalMilliseconds);
        }
    }

    /// <summary>The last <see cref="Step"/>: waiting for the lock, the tick under it, the delivery of its effects (heartbeat thread only).</summary>
    private (TimeSpan Lock, TimeSpan Tick, TimeSpan Deliver) lastStep;

    /// <inheritdoc />
    public void Dispose()
    {
        // Idempotent: the lifecycle stops the thread, the container disposes later.
        Stop();
        leaseWriter.Dispose();
    }

    /// <summary>
    /// Outside the lock: commits to the transport, then a changed ownership to every sink, in attach order, then the rest
    /// of the outbox. A message goes out once the kernel holds what it says (a Prepare's acknowledgement, a drain report),
    /// but a commit says nothing about this node's kernel: the coordinator put its releases into the kernel with its own
    /// promise, before it sent the Prepares, and what it gains with the commit no other node serves. Sent first, the
    /// members install and apply while the coordinator applies (a real 5-node partition: the commits left 23 ms later,
    /// behind the coordinator's own apply, on the path from the cut to the winning side serving every bucket).
    /// </summary>
    private void Deliver(MembershipEffects effects)
    {
        // Indexed: no enumerator per tick.
        var outbox = effects.Outbox;
        bool commits = false;
        if (effects.Changed is not null)
        {
            for (int i = 0; i < outbox.Count; i++)
            {
                if (outbox[i].Message is CommitRequest)
                {
                    transport!.Send(outbox[i]);
                    commits = true;
                }
            }
        }

        if (effects.Changed is { } changed)
        {
            foreach (var sink in sinks)
            {
                sink.Publish(changed);
            }
        }

        for (int i = 0; i < outbox.Count; i++)
        {
            if (!commits || outbox[i].Message is not CommitRequest)
            {
                transport!.Send(outbox[i]);
            }
        }
    }

    private void Run()
    {
        Log.ThreadStarted(logger, interval.TotalMilliseconds);
        if (threadPriority is not null)
        {
            if (threadPriority.TryRaiseCurrentThread(HeartbeatPriority) is { } refused)
            {
                Log.PriorityRefused(logger, refused);
            }
            else
            {
                Log.PriorityRaised(logger, HeartbeatPriority);
            }
        }

        long step = (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
        long next = timeProvider.GetTimestamp();
        TimeSpan gcPaused = GC.GetTotalPauseDuration();
        TimeSpan jitted = System.Runtime.JitInfo.GetCompilationTime();
        while (!stopping)
        {
            try
            {
                Step();
            }
            catch (Exception ex)
            {
                // The loop must outlive any single bad step: a dead heartbeat thread would be a silent split brain.
                Log.TickFailed(logger, ex);
            }

            // Fixed rate without catch-up bursts: after a stall, resume one interval from now.
            long now = timeProvider.GetTimestamp();
            next += step;
            TimeSpan wait = timeProvider.GetElapsedTime(now, next);
            TimeSpan gcNow = GC.GetTotalPauseDuration();
            TimeSpan jitNow = System.Runtime.JitInfo.GetCompilationTime();
            if (wait < TimeSpan.Zero)
            {
                if (-wait > interval)
                {
                    // Why: the tick itself (the membership lock, a message's delivery), the runtime's collections (they stop
                    // every thread, this one too), or else the thread was not run.
                    Log.TickLate(logger, (-wait).TotalMilliseconds, (lastStep.Lock + lastStep.Tick + lastStep.Deliver).TotalMilliseconds,
                        lastStep.Lock.TotalMilliseconds, lastStep.Tick.TotalMilliseconds, lastStep.Deliver.TotalMilliseconds,
                        (gcNow - gcPaused).TotalMilliseconds, (jitNow - jitted).TotalMilliseconds);
                }

                next = now;
                (gcPaused, jitted) = (gcNow, jitNow);
                continue;
            }

            (gcPaused, jitted) = (gcNow, jitNow);

            // Between ticks, sleep until the coordinator may have something to do: a deadline, or a wake-up by a message.
            while (!stopping)
            {
                wait = timeProvider.GetElapsedTime(timeProvider.GetTimestamp(), next);
                if (wait <= TimeSpan.Zero)
                {
                    break;
                }

                TimeSpan untilPoll = nextPollAt - Now; // written by Step and Poll, on this thread
                bool woken = untilPoll > TimeSpan.Zero && wake.Wait(WholeMilliseconds(untilPoll < wait ? untilPoll : wait));
                if (stopping)
                {
                    break;
                }

                if (!woken && untilPoll >= wait)
                {
                    break; // the tick is due first
                }

                try
                {
                    Poll();
                }
                catch (Exception ex)
                {
                    Log.TickFailed(logger, ex);
                }
            }
        }
    }

    /// <summary>A wait rounded up to whole milliseconds (the wait handle's unit): never wakes before the deadline.</summary>
    private static int WholeMilliseconds(TimeSpan wait) => (int)Math.Min(int.MaxValue, Math.Ceiling(wait.TotalMilliseconds));

    /// <summary>Between two ticks: lets the coordinator start a view change as soon as a detection timeout passed.</summary>
    public void Poll()
    {
        // Reset before polling: a message arriving from here on sets it again and gets its own poll.
        wake.Reset();
        Interlocked.Increment(ref polls);
        MembershipEffects effects;
        lock (gate)
        {
            TimeSpan now = Now;
            NoteReaders(now);
            effects = driver.Poll(now);
            nextPollAt = driver.NextPollAt(now, PollInterval);
        }

        Deliver(effects);
    }
}
