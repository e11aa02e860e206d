using Farm.Core.Scheduling;

namespace Farm.Daemon.Heartbeat;

/// <summary>
/// Probes the split-brain witness twice per heartbeat interval and reports each answer to the membership manager with
/// the time the probe started (the manager only trusts answers to probes started within its freshness window W).
/// </summary>
/// <remarks>
/// A dedicated thread at the heartbeat thread's real-time priority: a probe blocks up to one interval, and neither
/// thread-pool starvation nor a CPU burst of the other processes may make the witness look lost. A probe answered later
/// than W after the one before withdraws the lease and starts a new streak, which must last W + L before the node serves
/// again, and the lease then waits for its peers' confirmations (docs/architecture.md, "The kernel lease"). Probing every
/// half interval leaves a late probe 1.5 intervals of slack before that happens (75 ms at the defaults) instead of one
/// (measured: at the defaults the winning side of a partition lost its lease for ~2 s at the heal, when the nodes'
/// start-up and merge bursts delayed this thread).
/// </remarks>
internal sealed partial class WitnessProber : IDisposable
{
    private readonly IPAddress witness;
    private readonly TimeSpan interval;
    private readonly MembershipHost host;
    private readonly IWitnessPing ping;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly IThreadPriority? threadPriority;
    private readonly ManualResetEventSlim stopSignal = new(false);
    private Thread? thread;
    private bool? reachable;

    /// <param name="witness">The witness address.</param>
    /// <param name="interval">The heartbeat interval: a probe's timeout; probes start every half of it.</param>
    /// <param name="host">Where answers go.</param>
    /// <param name="ping">The probe.</param>
    /// <param name="timeProvider">Time.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="threadPriority">Raises the probe thread to <see cref="MembershipHost.HeartbeatPriority"/>; null: not raised.</param>
    public WitnessProber(
        IPAddress witness, TimeSpan interval, MembershipHost host, IWitnessPing ping, TimeProvider timeProvider, ILogger<WitnessProber> logger, IThreadPriority? threadPriority = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        this.witness = witness ?? throw new ArgumentNullException(nameof(witness));
        this.interval = interval;
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.ping = ping ?? throw new ArgumentNullException(nameof(ping));
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        this.threadPriority = threadPriority;
    }

    /// <summary>How often a probe starts: half the heartbeat interval.</summary>
    public TimeSpan Spacing => interval / 2;

    /// <summary>Starts the probe thread.</summary>
    public void Start()
    {
        if (thread is not null)
        {
            throw new InvalidOperationException("The witness prober already runs.");
        }

        thread = new Thread(Run) { Name = "farm-witness", IsBackground = true, Priority = ThreadPriority.AboveNormal };
        thread.Start();
    }

    /// <summary>Stops the probe thread and waits for it (at most one probe timeout).</summary>
    public void Stop()
    {
        stopSignal.Set();
        if (thread is { } t && t != Thread.CurrentThread)
        {
            t.Join();
        }
    }

    /// <summary>One probe (timeout: one interval); reports an answer to the manager. Returns true when answered.</summary>
    public bool ProbeOnce()
    {
        TimeSpan start = host.Now;
        bool answered = ping.Probe(witness, interval);
        if (answered)
        {
            host.ReportWitnessReached(start);
        }

        if (answered != reachable)
        {
            if (answered)
            {
                Log.Reached(logger, witness);
            }
            else
            {
                Log.Lost(logger, witness, interval.TotalMilliseconds);
            }

            reachable = answered;
        }

        return answered;
    }

    public void Dispose()
    {
        Stop();
        ping.Dispose();
        stopSignal.Dispose();
    }

    private void Run()
    {
        if (threadPriority?.TryRaiseCurrentThread(MembershipHost.HeartbeatPriority) is { } refused)
        {
            Log.PriorityRefused(logger, refused);
        }

        long next = timeProvider.GetTimestamp();
        while (!stopSignal.IsSet)
        {
            try
            {
                ProbeOnce();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The loop must outlive any single failure: a dead prober would silently withdraw the lease for good.
                Log.ProbeFailed(logger, e);
            }

            // Fixed rate; a probe that used its whole timeout is followed by the next one at once.
            long now = timeProvider.GetTimestamp();
            next += (long)(Spacing.TotalSeconds * timeProvider.TimestampFrequency);
            TimeSpan wait = timeProvider.GetElapsedTime(now, next);
            if (wait <= TimeSpan.Zero)
            {
                next = now;
                continue;
            }

            stopSignal.Wait(wait);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 220, Level = LogLevel.Information, Message = "Split-brain witness {Witness} answers")]
        public static partial void Reached(ILogger logger, IPAddress witness);

        [LoggerMessage(EventId = 221, Level = LogLevel.Warning, Message = "Split-brain witness {Witness} did not answer within {TimeoutMs} ms; this node takes no new buckets while it stays unreachable")]
        public static partial void Lost(ILogger logger, IPAddress witness, double timeoutMs);

        [LoggerMessage(EventId = 223, Level = LogLevel.Warning, Message = "Witness probe thread stays at normal priority: {Reason}; a CPU burst may delay probes and withdraw the lease")]
        public static partial void PriorityRefused(ILogger logger, string reason);

        [LoggerMessage(EventId = 222, Level = LogLevel.Error, Message = "Witness probe failed; the prober goes on")]
        public static partial void ProbeFailed(ILogger logger, Exception exception);
    }
}
