using Farm.Native.Linux;
using Farm.Testing.Farmd;

namespace Farm.Testing.Nftables;

/// <summary>
/// Reads every node's kernel filter for one module every <c>period</c> (one <see cref="KernelRound"/>, nodes in order)
/// and hands each round to an observer, on a dedicated thread. Reads go through one in-process libnftables context per
/// node namespace (created on a thread inside it), not through <c>nft</c> processes: five nodes every 10 ms would be
/// 500 process starts a second. The same contexts apply fault rules (<see cref="Run"/>), so a fault lands within a
/// millisecond of the call, not after a process start.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class KernelBucketSampler : IAsyncDisposable
{
    private readonly NftablesContext[] contexts;
    private readonly string listCommand;
    private readonly string liveTable;
    private readonly TimeSpan period;
    private readonly Action<KernelRound> observer;
    private readonly TimeProvider time;
    private readonly long start;
    private readonly ManualResetEventSlim stop = new(false);
    private readonly Thread thread;
    private Exception? failure;
    private long rounds;
    private long longestGapTicks;

    private KernelBucketSampler(NftablesContext[] contexts, string module, TimeSpan period, Action<KernelRound> observer, TimeProvider time)
    {
        this.contexts = contexts;
        // The sets only ("list sets table"): listing the whole table also lists every rule and counter, which cost about a
        // millisecond per read; several "list set" commands in one batch fail in nft 1.0.6 (No such file or directory).
        listCommand = "list sets table inet " + FilterTableName(module);
        liveTable = "table inet " + LiveTableName(module) + "\n";
        this.period = period;
        this.observer = observer;
        this.time = time;
        start = time.GetTimestamp();
        thread = new Thread(Run) { Name = "kernel-sampler", IsBackground = true };
    }

    /// <summary>Rounds taken so far.</summary>
    public long Rounds => Interlocked.Read(ref rounds);

    /// <summary>The longest time between the ends of two consecutive rounds (how well the sampler kept its period).</summary>
    public TimeSpan LongestGap => TimeSpan.FromTicks(Interlocked.Read(ref longestGapTicks));

    /// <summary>Time since the sampler started: the clock of every <see cref="KernelRead.From"/> and <see cref="KernelRead.At"/>.</summary>
    public TimeSpan Now => time.GetElapsedTime(start);

    /// <summary>Opens a context in each namespace of <paramref name="nodes"/> and starts sampling module <paramref name="module"/>.</summary>
    /// <param name="observer">Called on the sampler thread with every round; keep it short (it delays the next round).</param>
    public static async Task<KernelBucketSampler> StartAsync(
        IReadOnlyList<NetworkNamespace> nodes, string module, TimeSpan period, Action<KernelRound> observer, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(observer);
        var contexts = new List<NftablesContext>();
        try
        {
            foreach (var ns in nodes)
            {
                contexts.Add(await ns.RunAsync(NftablesContext.Create));
            }
        }
        catch
        {
            contexts.ForEach(c => c.Dispose());
            throw;
        }

        var sampler = new KernelBucketSampler([.. contexts], module, period, observer, time ?? TimeProvider.System);
        sampler.thread.Start();
        return sampler;
    }

    /// <summary>The nft table of a module, as farmd names it (see <c>NftRuleset.TableName</c>).</summary>
    public static string FilterTableName(string module) => "farm_" + module.Replace('-', '_');

    /// <summary>The module's live table (owned by farmd's netlink socket; gone when farmd is): <c>farmlive_MODULE</c>.</summary>
    public static string LiveTableName(string module) => "farmlive_" + module.Replace('-', '_');

    /// <summary>
    /// Runs nft commands in node <paramref name="node"/>'s namespace as one transaction and returns nft's text output
    /// (a fault script, or a listing); returns when the kernel holds the change.
    /// </summary>
    /// <exception cref="InvalidOperationException">nft refused the commands.</exception>
    public string Run(int node, string commands)
    {
        var context = contexts[node];
        lock (context)
        {
            try
            {
                return context.Run(commands, json: false);
            }
            catch (NftablesException e)
            {
                throw new InvalidOperationException($"node{node}: {e.Message}", e);
            }
        }
    }

    /// <summary>Throws what ended the sampler thread, if anything did (an observer's exception).</summary>
    public void ThrowIfFailed()
    {
        if (Volatile.Read(ref failure) is { } e)
        {
            throw new InvalidOperationException("The kernel sampler stopped: " + e.Message, e);
        }
    }

    /// <summary>Stops sampling and closes the contexts.</summary>
    public ValueTask DisposeAsync()
    {
        stop.Set();
        thread.Join();
        foreach (var context in contexts)
        {
            lock (context)
            {
                context.Dispose();
            }
        }

        stop.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Run()
    {
        // Normal priority on purpose: a read costs about a millisecond of CPU per node, so five nodes every 10 ms took
        // half a core; at SCHED_RR (tried) that half core was taken from farmd's own threads on a two-core machine and
        // distorted what the sampler measures. A late round shows in LongestGap instead.
        long number = 0;
        TimeSpan? previous = null;
        TimeSpan next = Now;
        try
        {
            while (!stop.IsSet)
            {
                var reads = new KernelRead[contexts.Length];
                for (int i = 0; i < contexts.Length; i++)
                {
                    reads[i] = Read(i);
                }

                var round = new KernelRound(number++, reads);
                if (previous is { } p && (round.At - p).Ticks > Interlocked.Read(ref longestGapTicks))
                {
                    Interlocked.Exchange(ref longestGapTicks, (round.At - p).Ticks);
                }

                previous = round.At;
                Interlocked.Increment(ref rounds);
                observer(round);

                // Keep the period; a late round is not followed by a burst of catch-up rounds.
                next += period;
                var now = Now;
                if (next < now)
                {
                    next = now;
                }
                else
                {
                    stop.Wait(next - now);
                }
            }
        }
        catch (Exception e)
        {
            Volatile.Write(ref failure, e);
        }
    }

    private KernelRead Read(int node)
    {
        var context = contexts[node];
        string text;
        string? problem = null;
        bool live = true;
        TimeSpan from;
        lock (context)
        {
            from = Now;
            try
            {
                text = context.Run(listCommand, json: false);

                // The crash fast path: a dead farmd's live table is gone and its kernel drops everything, lease or not.
                live = context.Run("list tables inet", json: false).Contains(liveTable, StringComparison.Ordinal);
            }
            catch (NftablesException e)
            {
                text = string.Empty;
                problem = e.Message.Split('\n')[0];
            }
        }

        var at = Now;
        if (problem is not null)
        {
            return new KernelRead(node, from, at, new HashSet<int>(), null, Settled: true, problem);
        }

        var table = FilterTableState.ParseText(text);
        TimeSpan? leaseUntil = table.HasLease && live ? at + (table.LeaseExpiresIn ?? TimeSpan.Zero) : null;
        return new KernelRead(node, from, at, table.AcceptingNewFlows, leaseUntil, table.IsSettled, null);
    }
}
