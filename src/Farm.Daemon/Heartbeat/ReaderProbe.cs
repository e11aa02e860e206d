namespace Farm.Daemon.Heartbeat;

/// <summary>
/// Whether the threads that read this process's sockets get to run: the heartbeat thread runs at real-time priority, the
/// readers (and the writers of its heartbeats) are ordinary threads that a loaded machine can starve while it still
/// ticks. Used by the heartbeat thread only (see <see cref="Farm.Cluster.Membership.StallLedger"/>).
/// </summary>
internal interface IReaderProbe
{
    /// <summary>
    /// With <paramref name="start"/>, queues a probe stamped <paramref name="now"/> (the host's clock) unless one waits
    /// already. Returns since when a probe waits (null: none does) and the latest probe that ran.
    /// </summary>
    ReaderProbeResult Probe(TimeSpan now, bool start);
}

/// <summary>
/// What the readers' probes showed: since when one waits (null: none), and when the latest one that ran was queued and
/// when it ran (null: none ran yet).
/// </summary>
internal readonly record struct ReaderProbeResult(TimeSpan? WaitingSince, TimeSpan? LastQueued, TimeSpan? LastRan);

/// <summary>
/// <see cref="IReaderProbe"/> for the .NET thread pool, which runs the socket completions of Kestrel and of the gRPC
/// client: one work item on the global queue, behind whatever waits there, that notes the time it ran. A probe that
/// waits long means the readers did not run: all pool threads blocked, or the process's ordinary threads starved of CPU.
/// The pool's pending-item count cannot tell the latter: the socket engine's thread, starved too, queues nothing (tried
/// first: a starved farmd still formed a view alone, tests/bench/membership/starve.sh).
/// </summary>
internal sealed class ThreadPoolReaderProbe : IReaderProbe
{
    private const long None = long.MinValue;
    private readonly Func<TimeSpan> clock;
    private readonly Action<Action> queue;
    private readonly Action ran;
    private long waiting = None; // the stamp (ticks) of the probe in the queue, None when none: caller only
    private long ranAt = None; // when the probe in the queue ran, None until then: written by the pool, reset by the caller
    private TimeSpan? lastQueued;
    private TimeSpan? lastRan;

    /// <summary>Probes the process's thread pool; <paramref name="clock"/> is the host's clock (the probe reads it when it runs).</summary>
    public ThreadPoolReaderProbe(Func<TimeSpan> clock)
        : this(clock, static probe => ThreadPool.UnsafeQueueUserWorkItem(static p => p(), probe, preferLocal: false))
    {
    }

    /// <summary>Probes whatever <paramref name="queue"/> appends the probe to.</summary>
    public ThreadPoolReaderProbe(Func<TimeSpan> clock, Action<Action> queue)
    {
        this.clock = clock ?? throw new ArgumentNullException(nameof(clock));
        this.queue = queue ?? throw new ArgumentNullException(nameof(queue));
        ran = () => Volatile.Write(ref ranAt, this.clock().Ticks);
    }

    /// <inheritdoc />
    public ReaderProbeResult Probe(TimeSpan now, bool start)
    {
        Collect();
        if (start && waiting == None)
        {
            waiting = now.Ticks;
            Volatile.Write(ref ranAt, None);
            queue(ran);
            Collect(); // a queue that runs it at once (tests)
        }

        return new ReaderProbeResult(waiting == None ? null : TimeSpan.FromTicks(waiting), lastQueued, lastRan);
    }

    /// <summary>Moves the probe in the queue, once it ran, to the latest that ran.</summary>
    private void Collect()
    {
        long done = Volatile.Read(ref ranAt);
        if (waiting != None && done != None)
        {
            (lastQueued, lastRan) = (TimeSpan.FromTicks(waiting), TimeSpan.FromTicks(done));
            waiting = None;
        }
    }
}
