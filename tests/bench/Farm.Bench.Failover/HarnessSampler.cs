using Farm.Testing.Topology;

namespace Farm.Bench.Failover;

/// <summary>
/// Watches the harness from a thread of its own, every millisecond: how many connections each node's app
/// (<see cref="NameServer"/>, which runs in this process) has accepted, keeping per node the longest time without a new
/// accept, and how long a work item waits for the thread pool (where the apps accept and answer and the load's connects
/// and reads complete). With the capture, it tells a node whose kernel answered SYNs but whose app did not take the
/// connections in time from one that got none.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class HarnessSampler : IDisposable
{
    private readonly FarmFixture farm;
    private readonly TimeProvider time;
    private readonly Thread thread;
    private readonly (long Length, long From)[] longest;
    private volatile bool stopping;
    private long probeQueued;
    private long longestWait;
    private long longestWaitFrom;

    private HarnessSampler(FarmFixture farm, TimeProvider time)
    {
        this.farm = farm;
        this.time = time;
        longest = new (long, long)[farm.NodeCount];
        thread = new Thread(Run) { IsBackground = true, Name = "harness sampler" };
    }

    /// <summary>Longest time between two wake-ups of the sampler (ticks), and when it began: its own stall, which the gaps include.</summary>
    public (long Length, long From) LongestWakeGap { get; private set; }

    /// <summary>Longest time a probe queued to the thread pool waited until it ran (ticks), and when it was queued.</summary>
    public (long Length, long From) LongestPoolWait => (Interlocked.Read(ref longestWait), Interlocked.Read(ref longestWaitFrom));

    /// <summary>Most work items queued to the thread pool at one sample.</summary>
    public long MostPending { get; private set; }

    /// <summary>Per node: the longest time without a new accept by its app (ticks; an app restarted counts as activity), and when it began.</summary>
    public IReadOnlyList<(long Length, long From)> LongestAcceptGap => longest;

    public static HarnessSampler Start(FarmFixture farm, TimeProvider time)
    {
        var sampler = new HarnessSampler(farm, time);
        sampler.thread.Start();
        return sampler;
    }

    /// <summary>Stops sampling; the last gap of each node runs to this moment.</summary>
    public void Stop()
    {
        stopping = true;
        thread.Join();
    }

    public void Dispose() => Stop();

    private void Run()
    {
        int nodes = longest.Length;
        var server = new NameServer?[nodes];
        var count = new long[nodes];
        var since = new long[nodes];
        long previous = time.GetTimestamp();
        for (int n = 0; n < nodes; n++)
        {
            server[n] = farm.Servers[n];
            count[n] = server[n]?.Connections ?? 0;
            since[n] = previous;
        }

        while (true)
        {
            bool last = stopping;
            long now = time.GetTimestamp();
            if (now - previous > LongestWakeGap.Length)
            {
                LongestWakeGap = (now - previous, previous);
            }

            previous = now;
            MostPending = Math.Max(MostPending, ThreadPool.PendingWorkItemCount);
            if (!last && Interlocked.CompareExchange(ref probeQueued, now, 0) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static self => self.Probe(), this, preferLocal: false);
            }

            for (int n = 0; n < nodes; n++)
            {
                var s = farm.Servers[n];
                long c = s?.Connections ?? 0;
                if (s == server[n] && c == count[n] && !last)
                {
                    continue;
                }

                if (now - since[n] > longest[n].Length)
                {
                    longest[n] = (now - since[n], since[n]);
                }

                (server[n], count[n], since[n]) = (s, c, now);
            }

            if (last)
            {
                return;
            }

            Thread.Sleep(1);
        }
    }

    // Runs on the thread pool: how long it waited since it was queued (one probe at a time).
    private void Probe()
    {
        long queued = Interlocked.Read(ref probeQueued);
        long wait = time.GetTimestamp() - queued;
        if (wait > longestWait)
        {
            Interlocked.Exchange(ref longestWaitFrom, queued);
            Interlocked.Exchange(ref longestWait, wait);
        }

        Interlocked.Exchange(ref probeQueued, 0);
    }
}
