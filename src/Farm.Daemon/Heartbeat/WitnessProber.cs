namespace Farm.Daemon.Heartbeat;

/// <summary>
/// Probes the split-brain witness every heartbeat interval and reports each answer to the membership manager with the
/// time the probe started (the manager only trusts answers to probes started within its freshness window).
/// </summary>
/// <remarks>
/// A dedicated thread, like the heartbeat thread: a probe blocks up to one interval, and thread-pool starvation must
/// not make the witness look lost (which would withdraw this side's lease).
/// </remarks>
internal sealed partial class WitnessProber : IDisposable
{
    private readonly IPAddress witness;
    private readonly TimeSpan interval;
    private readonly MembershipHost host;
    private readonly IWitnessPing ping;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly ManualResetEventSlim stopSignal = new(false);
    private Thread? thread;
    private bool? reachable;

    public WitnessProber(IPAddress witness, TimeSpan interval, MembershipHost host, IWitnessPing ping, TimeProvider timeProvider, ILogger<WitnessProber> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        this.witness = witness ?? throw new ArgumentNullException(nameof(witness));
        this.interval = interval;
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.ping = ping ?? throw new ArgumentNullException(nameof(ping));
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

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
            next += (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
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

        [LoggerMessage(EventId = 222, Level = LogLevel.Error, Message = "Witness probe failed; the prober goes on")]
        public static partial void ProbeFailed(ILogger logger, Exception exception);
    }
}
