using Farm.Core.Scheduling;

namespace Farm.Daemon.Heartbeat;

/// <summary>
/// Extends the kernel lease for the heartbeat thread, on a thread of its own at the same real-time priority. The kernel
/// write waits for the data plane's lock, which an apply on another thread may hold (a Prepare's release, a conntrack
/// cleanup the apply has to wait for); measured in the chaos soak: 156 ms. On the heartbeat thread that wait stopped the
/// heartbeats too, so the peers' confirmations went stale and their leases lapsed as well. Here it delays only this
/// node's kernel lease, which fails closed, and the next write carries the newest expiry.
/// </summary>
/// <remarks>
/// Only the latest expiry matters: a write that finds a newer one posted meanwhile writes that. The remaining duration is
/// computed when the write starts, so the kernel never serves past the expiry the manager granted. Before
/// <see cref="Start"/> (tests that step the host by hand) a post writes on the caller's thread.
/// </remarks>
internal sealed partial class LeaseWriter(Func<TimeSpan> now, IReadOnlyList<IOwnershipSink> sinks, ILogger logger) : IDisposable
{
    private readonly AutoResetEvent posted = new(false);
    private long expiryTicks = long.MinValue;
    private volatile bool stopping;
    private Thread? thread;

    /// <summary>Starts the writer thread, raised with <paramref name="priority"/> to <paramref name="level"/> when given.</summary>
    public void Start(IThreadPriority? priority, int level)
    {
        if (thread is not null)
        {
            throw new InvalidOperationException("The lease writer is already running.");
        }

        thread = new Thread(() => Run(priority, level)) { Name = "farm-lease", IsBackground = true, Priority = ThreadPriority.AboveNormal };
        thread.Start();
    }

    /// <summary>The manager's lease now ends at <paramref name="expiry"/> (host time): extend the kernel's to it.</summary>
    public void Post(TimeSpan expiry)
    {
        // Sinks that never wait are refreshed here: a thread is woken only for a sink that may (the kernel's lease).
        if (AllInline())
        {
            Refresh(sinks, expiry);
            return;
        }

        Interlocked.Exchange(ref expiryTicks, expiry.Ticks);
        if (thread is null)
        {
            Write();
        }
        else
        {
            posted.Set();
        }
    }

    /// <summary>Stops the writer thread and waits for it; idempotent.</summary>
    public void Stop()
    {
        if (stopping)
        {
            return;
        }

        stopping = true;
        posted.Set();
        if (thread is { } t && t != Thread.CurrentThread)
        {
            t.Join();
        }
    }

    public void Dispose()
    {
        Stop();
        posted.Dispose();
    }

    private void Run(IThreadPriority? priority, int level)
    {
        // The heartbeat thread logs a refusal (same process, same rights): this thread's would only repeat it.
        string? refused = priority?.TryRaiseCurrentThread(level);
        Log.Started(logger, priority is not null && refused is null);
        while (true)
        {
            posted.WaitOne();
            if (stopping)
            {
                return;
            }

            try
            {
                Write();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.WriteFailed(logger, e); // the sinks fail closed on their own; the next post tries again
            }
        }
    }

    private void Write()
    {
        long ticks = Interlocked.Read(ref expiryTicks);
        if (ticks == long.MinValue)
        {
            return; // nothing posted yet
        }

        Refresh(sinks, TimeSpan.FromTicks(ticks));
    }

    /// <summary>True when every sink refreshes without waiting (<see cref="IOwnershipSink.RefreshesLeaseInline"/>): a node without data plane.</summary>
    private bool AllInline()
    {
        for (int i = 0; i < sinks.Count; i++)
        {
            if (!sinks[i].RefreshesLeaseInline)
            {
                return false;
            }
        }

        return sinks.Count > 0;
    }

    /// <summary>Extends each of <paramref name="targets"/> by what remains of <paramref name="expiry"/>, unless nothing does.</summary>
    private void Refresh(IReadOnlyList<IOwnershipSink> targets, TimeSpan expiry)
    {
        var remaining = expiry - now();
        if (remaining <= TimeSpan.Zero)
        {
            return; // lapsed before it could be written: the kernel's runs out as the manager's did
        }

        foreach (var sink in targets)
        {
            sink.RefreshLease(remaining);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 205, Level = LogLevel.Debug, Message = "Lease writer thread started (real-time priority: {RealTime})")]
        public static partial void Started(ILogger logger, bool realTime);

        [LoggerMessage(EventId = 206, Level = LogLevel.Error, Message = "Extending the kernel lease failed; the next tick tries again")]
        public static partial void WriteFailed(ILogger logger, Exception exception);
    }
}
