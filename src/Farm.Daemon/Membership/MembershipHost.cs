using Farm.Cluster.Membership;
using Farm.Daemon.Transport;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Membership;

/// <summary>
/// Runs a <see cref="MembershipManager"/> in farmd: serializes every call under one lock (never held during I/O),
/// ticks it on a dedicated thread, and hands its outbox to the transport after every step.
/// </summary>
/// <remarks>
/// The tick thread is not a thread-pool thread: thread-pool starvation (or a burst of slow handlers) must not
/// look like a dead peer or stop the lease refresh. It reads time from <see cref="TimeProvider"/> but sleeps on an
/// OS wait handle, because TimeProvider timers fire on the thread pool.
/// </remarks>
internal sealed partial class MembershipHost : IDisposable
{
    /// <summary>How often the heartbeat thread polls the coordinator between ticks.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    private readonly Lock gate = new();
    private readonly MembershipManager manager;
    private readonly TimeProvider timeProvider;
    private readonly long startTimestamp;
    private readonly TimeSpan interval;
    private readonly ILogger logger;
    private readonly ManualResetEventSlim stopSignal = new(false);
    private IPeerTransport? transport;
    private readonly List<IOwnershipSink> sinks = [];
    private Thread? thread;
    private long ticks;
    private long publishedVersion = -1;
    private TimeSpan refreshedLeaseExpiry = TimeSpan.MinValue;

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
        manager = new MembershipManager(options, self, configHash, modules, TimeSpan.Zero, loggerFactory.CreateLogger<MembershipManager>());
    }

    /// <summary>The protocol options.</summary>
    public MembershipOptions Options { get; }

    /// <summary>This node's cluster file hash.</summary>
    public string ConfigHash { get; }

    /// <summary>Monotonic time since the host was created: the manager's clock.</summary>
    public TimeSpan Now => timeProvider.GetElapsedTime(startTimestamp);

    /// <summary>Number of ticks run so far (tests and status use it to see the thread is alive).</summary>
    public long Ticks => Interlocked.Read(ref ticks);

    /// <summary>True once <see cref="Start"/> ran and before <see cref="Stop"/>.</summary>
    public bool IsRunning => thread is not null && !stopSignal.IsSet;

    /// <summary>Connects the transport that sends the outbox; call once before <see cref="Start"/>.</summary>
    public void Attach(IPeerTransport peerTransport) => transport = peerTransport ?? throw new ArgumentNullException(nameof(peerTransport));

    /// <summary>
    /// Connects the data plane (and the module host): every ownership change is published to each sink, in attach order,
    /// before the messages the change causes are sent, and every lease extension is passed on. Attach before
    /// <see cref="Start"/>; the data plane first, so the kernel holds a change before anything reacts to it.
    /// </summary>
    public void AttachSink(IOwnershipSink ownershipSink) => sinks.Add(ownershipSink ?? throw new ArgumentNullException(nameof(ownershipSink)));

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
        stopSignal.Set();
        if (thread is { } t && t != Thread.CurrentThread)
        {
            t.Join();
        }
    }

    /// <summary>Reads manager state under the lock; <paramref name="reader"/> must be quick and do no I/O.</summary>
    public T Read<T>(Func<MembershipManager, TimeSpan, T> reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        lock (gate)
        {
            return reader(manager, Now);
        }
    }

    /// <summary>Answers a request from an authenticated peer and sends whatever the manager wants sent next.</summary>
    public MembershipMessage HandleRequest(string from, int lan, MembershipMessage request)
    {
        MembershipMessage reply;
        Effects effects;
        lock (gate)
        {
            reply = manager.HandleRequest(from, lan, request, Now);
            effects = TakeEffects();
        }

        // Into the kernel before the reply leaves: a Prepare's acknowledgement promises the released buckets drain.
        Deliver(effects);
        return reply;
    }

    /// <summary>Delivers an authenticated reply.</summary>
    public void HandleReply(long correlationId, MembershipMessage reply)
    {
        Effects effects;
        lock (gate)
        {
            manager.HandleReply(correlationId, reply, Now);
            effects = TakeEffects();
        }

        Deliver(effects);
    }

    /// <summary>Reports a failed request (transport error, deadline, refused reply).</summary>
    public void HandleFailure(long correlationId)
    {
        Effects effects;
        lock (gate)
        {
            manager.HandleFailure(correlationId, Now);
            effects = TakeEffects();
        }

        Deliver(effects);
    }

    /// <summary>Changes what this node says about itself (e.g. leaving on SIGTERM).</summary>
    public void UpdateSelf(Func<MemberInfo, MemberInfo> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (gate)
        {
            manager.UpdateSelf(change(manager.Self));
        }
    }

    /// <summary>
    /// Reports what the data plane found after it applied <paramref name="applied"/>: which draining buckets still hold
    /// connections (see <see cref="MembershipManager.ReportDrains"/>); ended drains reach the sinks, reports the peers.
    /// </summary>
    public void ReportDrains(OwnershipSnapshot applied, IReadOnlyDictionary<string, ModuleDrainScan> scans)
    {
        Effects effects;
        lock (gate)
        {
            manager.ReportDrains(applied, scans, Now);
            effects = TakeEffects();
        }

        Deliver(effects);
    }

    /// <summary>Reports that the split-brain witness answered a probe started at <paramref name="probeStart"/> (host time, <see cref="Now"/>).</summary>
    public void ReportWitnessReached(TimeSpan probeStart)
    {
        lock (gate)
        {
            manager.ReportWitnessReached(probeStart);
        }
    }

    /// <summary>One tick: the heartbeat thread calls it each interval; tests may call it directly.</summary>
    public void Step()
    {
        Effects effects;
        TimeSpan leaseExpiry;
        lock (gate)
        {
            manager.Tick(Now);
            effects = TakeEffects();
            leaseExpiry = manager.LeaseExpiry;
        }

        Interlocked.Increment(ref ticks);

        // The lease first: it is the time-critical part. The kernel's runs out no later than the manager's (the
        // duration is what remains of it now), so the kernel never serves longer than the protocol allows.
        if (sinks.Count > 0 && leaseExpiry > refreshedLeaseExpiry)
        {
            refreshedLeaseExpiry = leaseExpiry;
            TimeSpan remaining = leaseExpiry - Now;
            if (remaining > TimeSpan.Zero)
            {
                foreach (var sink in sinks)
                {
                    sink.RefreshLease(remaining);
                }
            }
        }

        Deliver(effects);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Idempotent: the lifecycle stops the thread, the container disposes later.
        Stop();
    }

    /// <summary>
    /// Under the lock, after a manager call: its outbox, and its ownership when that changed since the last call (else
    /// null).
    /// </summary>
    private Effects TakeEffects()
    {
        var outbox = manager.TakeOutbox();
        var ownership = manager.Ownership;
        if (sinks.Count == 0 || ownership.Version == publishedVersion)
        {
            return new Effects(outbox, null);
        }

        publishedVersion = ownership.Version;
        return new Effects(outbox, ownership);
    }

    /// <summary>Outside the lock: a changed ownership to every sink, in attach order, then the outbox to the transport.</summary>
    private void Deliver(Effects effects)
    {
        if (effects.Changed is { } changed)
        {
            foreach (var sink in sinks)
            {
                sink.Publish(changed);
            }
        }

        // Indexed: no enumerator per tick.
        var outbox = effects.Outbox;
        for (int i = 0; i < outbox.Count; i++)
        {
            transport!.Send(outbox[i]);
        }
    }

    private void Run()
    {
        Log.ThreadStarted(logger, interval.TotalMilliseconds);
        long step = (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
        long next = timeProvider.GetTimestamp();
        while (!stopSignal.IsSet)
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
            if (wait < TimeSpan.Zero)
            {
                if (-wait > interval)
                {
                    Log.TickLate(logger, (-wait).TotalMilliseconds);
                }

                next = now;
                continue;
            }

            // Between ticks, poll: the coordinator reacts to a detection timeout within a few ms, not at the next tick.
            while (wait > TimeSpan.Zero && !stopSignal.Wait(wait < PollInterval ? wait : PollInterval))
            {
                try
                {
                    Poll();
                }
                catch (Exception ex)
                {
                    Log.TickFailed(logger, ex);
                }

                wait = timeProvider.GetElapsedTime(timeProvider.GetTimestamp(), next);
            }
        }
    }

    /// <summary>Between two ticks: lets the coordinator start a view change as soon as a detection timeout passed.</summary>
    public void Poll()
    {
        Effects effects;
        lock (gate)
        {
            manager.Poll(Now);
            effects = TakeEffects();
        }

        Deliver(effects);
    }

    /// <summary>What one manager call leaves to do outside the lock.</summary>
    private readonly record struct Effects(IReadOnlyList<OutboundRequest> Outbox, OwnershipSnapshot? Changed);

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Heartbeat thread started, interval {IntervalMs} ms")]
        public static partial void ThreadStarted(ILogger logger, double intervalMs);

        [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Membership tick failed; the heartbeat thread goes on")]
        public static partial void TickFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Heartbeat thread was {LateMs:F0} ms late (process stalled?)")]
        public static partial void TickLate(ILogger logger, double lateMs);
    }
}
