using Farm.Core.Config;
using Farm.DataPlane.Conntrack;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Runtime;

/// <summary>
/// Deletes the conntrack entries of the buckets a node may no longer trust, as <see cref="StaleEntryPolicy"/> says:
/// every entry of a module when its data plane starts, a bucket's when it stops being served here, and the served
/// buckets' when the node claims buckets after it was out of the view. <see cref="DataPlaneHost"/> calls it under its
/// lock, around each apply.
/// </summary>
/// <remarks>
/// A bucket's entries are found by dumping the table and hashing each entry of the module's VIPs and port rules into
/// its bucket (<see cref="DrainScanner.BucketOf"/>, the filter's own hash), then deleted by tuple. With thousands of
/// entries that takes hundreds of milliseconds, so the deletions of buckets that stopped being served run on this
/// cleaner's own thread, off the apply (measured: done inline on the heartbeat thread after a node's return, it held the
/// survivors' heartbeats 150-400 ms and let their leases lapse). That is safe because the kernel drops a bucket's
/// packets before conntrack while it is none here: its entries can do harm only once it is served again, and an apply
/// that serves a bucket whose deletion is still pending or running first waits for it and deletes it inline. The
/// deletions before a claim (a rejoin) and at start stay inline. A deletion that fails is logged and not retried: the
/// entries it left can let the node answer those flows again (the gap this closes).
/// </remarks>
public sealed partial class StaleEntryCleaner : IDisposable
{
    private readonly IConntrackTable table;
    private readonly ILogger logger;
    private readonly Lock gate = new(); // modules, pending, running
    private readonly Lock tableGate = new(); // one user of the table at a time: the worker, or an apply
    private readonly Dictionary<string, Module> modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim wake = new(0);
    private readonly ManualResetEventSlim idle = new(true);
    private readonly CancellationTokenSource stopping = new();
    private readonly Thread worker;

    /// <summary>Cleans <paramref name="table"/>, the conntrack table of the namespace the data plane runs in.</summary>
    public StaleEntryCleaner(IConntrackTable table, ILogger<StaleEntryCleaner> logger)
    {
        this.table = table ?? throw new ArgumentNullException(nameof(table));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        worker = new Thread(Run) { IsBackground = true, Name = "farm-stale-entries" };
        worker.Start();
    }

    /// <summary>
    /// The data plane of <paramref name="module"/> started (fail-closed, no lease yet; also again after an admin stop):
    /// deletes every entry of the module and starts its policy afresh.
    /// </summary>
    public void Started(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var state = new Module(new DrainScanner(module), new StaleEntryPolicy(module.Buckets));
        lock (tableGate)
        {
            lock (gate)
            {
                modules[module.Name] = state;
                pending.Remove(module.Name); // all of them go now
            }

            Delete(state, null, "the data plane started");
        }
    }

    /// <summary>Waits until no deletion is pending or running (tests, and a caller that wants the table clean); false when <paramref name="timeout"/> passed first.</summary>
    public bool WaitIdle(TimeSpan timeout) => idle.Wait(timeout);

    /// <summary>Stops the worker (a deletion it runs finishes first) and closes the table (when it is disposable).</summary>
    public void Dispose()
    {
        stopping.Cancel();
        worker.Join();
        (table as IDisposable)?.Dispose();
        wake.Dispose();
        idle.Dispose();
        stopping.Dispose();
    }

    /// <summary>
    /// Called before the data plane's lock is taken to apply <paramref name="snapshot"/>: waits for a batch of the worker
    /// that deletes entries of buckets the snapshot serves, and deletes itself the pending ones it serves, so that the apply
    /// under that lock (<see cref="BeforeApply"/>) finds nothing to wait for. A dump of a table of thousands of entries
    /// takes 100-200 ms; waited for under the data plane's lock, it held the kernel lease's refresh until the lease ran out
    /// on a healthy node (chaos soak, 2026-12-05: a coordinator served nothing for ~150 ms). Only what must be deleted
    /// before the apply anyway is deleted here, earlier; the rest is unchanged.
    /// </summary>
    public void Settle(OwnershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        List<(Module State, BucketState[] States, IReadOnlyList<int> Rejoin)> touched = [];
        lock (gate)
        {
            foreach (var (name, state) in modules)
            {
                if (snapshot.Modules.TryGetValue(name, out var held) && held.States.Length == state.Policy.BucketCount)
                {
                    // A claim after a rejoin (the policy's rule, which BeforeApply follows): every bucket served, cleaned here first.
                    BucketState[] states = [.. held.States];
                    var rejoin = state.Policy.Rejoins(snapshot)
                        ? Uncleaned(state, snapshot, [.. Enumerable.Range(0, states.Length).Where(b => states[b] != BucketState.None)])
                        : [];
                    if (rejoin.Count > 0 || ServedWhileDeleting(name, states))
                    {
                        touched.Add((state, states, rejoin));
                    }
                }
            }
        }

        if (touched.Count == 0)
        {
            return;
        }

        lock (tableGate) // the worker's batch, if one runs, ends first
        {
            foreach (var (state, states, rejoin) in touched)
            {
                DeleteBeforeServing(state, states, rejoin);
            }
        }
    }

    /// <summary>
    /// The kernel is about to take the states <paramref name="snapshot"/> gives <paramref name="module"/> (all none while
    /// it is not <paramref name="accepting"/> or the snapshot lacks it): deletes what must go before (a claim after a
    /// rejoin; a bucket served again whose deletion had not run yet), returns the buckets to clean once it took them
    /// (<see cref="AfterApply"/>). Nothing for a module that did not start, or states of another bucket count.
    /// </summary>
    public IReadOnlyList<int> BeforeApply(ModuleConfig module, bool accepting, OwnershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(snapshot);
        BucketState[] states = accepting && snapshot.Modules.TryGetValue(module.Name, out var held) ? [.. held.States] : new BucketState[module.Buckets];
        Module? state;
        StaleBuckets stale;
        IReadOnlyList<int> rejoin;
        bool waitForWorker;
        lock (gate)
        {
            if (!modules.TryGetValue(module.Name, out state) || states.Length != state.Policy.BucketCount)
            {
                return [];
            }

            stale = state.Policy.Next(states, snapshot);
            rejoin = stale.BeforeApply.Count > 0 ? Uncleaned(state, snapshot, stale.BeforeApply) : [];
            waitForWorker = ServedWhileDeleting(module.Name, states);
        }

        if (rejoin.Count > 0 || waitForWorker)
        {
            lock (tableGate) // the worker's batch, if one runs, ends first
            {
                DeleteBeforeServing(state, states, rejoin);
            }
        }

        return stale.AfterApply;
    }

    /// <summary>
    /// The kernel took the states: the entries of <paramref name="buckets"/> (from <see cref="BeforeApply"/>), no longer
    /// served here, are deleted on the cleaner's thread.
    /// </summary>
    public void AfterApply(string module, IReadOnlyList<int> buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        if (buckets.Count == 0)
        {
            return;
        }

        lock (gate)
        {
            if (!modules.ContainsKey(module))
            {
                return;
            }

            if (!pending.TryGetValue(module, out var set))
            {
                pending[module] = set = [];
            }

            set.UnionWith(buckets);
            idle.Reset();
        }

        wake.Release();
    }

    /// <summary>True when a deletion of the worker, pending or running, is of a bucket <paramref name="states"/> serves; under <c>gate</c>.</summary>
    private bool ServedWhileDeleting(string module, BucketState[] states)
    {
        return Served(running) || Served(pending);

        bool Served(Dictionary<string, HashSet<int>> sets) => sets.TryGetValue(module, out var set) && set.Any(b => states[b] != BucketState.None);
    }

    /// <summary>
    /// Of <paramref name="buckets"/>, to clean for the rejoin <paramref name="snapshot"/> claims after: those <see cref="Settle"/>
    /// did not clean for it already; under <c>gate</c>.
    /// </summary>
    private static IReadOnlyList<int> Uncleaned(Module state, OwnershipSnapshot snapshot, IReadOnlyList<int> buckets)
    {
        if (state.RejoinCount != snapshot.RejoinClaims)
        {
            state.RejoinCount = snapshot.RejoinClaims;
            state.RejoinCleaned.Clear();
        }

        return [.. buckets.Where(b => !state.RejoinCleaned.Contains(b))];
    }

    /// <summary>
    /// Before the kernel serves <paramref name="states"/>: deletes, in one dump, the entries of the buckets it serves
    /// whose deletion is still pending and of <paramref name="rejoin"/>; under <c>tableGate</c>.
    /// </summary>
    private void DeleteBeforeServing(Module state, BucketState[] states, IReadOnlyList<int> rejoin)
    {
        List<int> late;
        lock (gate)
        {
            late = pending.TryGetValue(state.Scanner.Module.Name, out var waiting) ? [.. waiting.Where(b => states[b] != BucketState.None)] : [];
            waiting?.ExceptWith(late);
        }

        if (rejoin.Count > 0)
        {
            Delete(state, [.. rejoin.Union(late)], "claimed after this node was out of the view");
            lock (gate)
            {
                state.RejoinCleaned.UnionWith(rejoin);
            }
        }
        else if (late.Count > 0)
        {
            Delete(state, late, "served again before its deletion ran");
        }
    }

    /// <summary>The worker: takes every pending deletion as one batch (one dump per module), until disposed.</summary>
    private void Run()
    {
        try
        {
            while (true)
            {
                wake.Wait(stopping.Token);
                lock (tableGate)
                {
                    List<(Module State, List<int> Buckets)> batch = [];
                    lock (gate)
                    {
                        foreach (var (name, set) in pending.Where(p => p.Value.Count > 0))
                        {
                            batch.Add((modules[name], [.. set]));
                            running[name] = [.. set];
                        }

                        pending.Clear();
                    }

                    foreach (var (state, buckets) in batch)
                    {
                        Delete(state, buckets, "no longer served here");
                    }

                    lock (gate)
                    {
                        running.Clear();
                        if (pending.Count == 0)
                        {
                            idle.Set();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // disposed
        }
    }

    /// <summary>Deletes the module's entries in <paramref name="buckets"/> (every bucket when null); under <c>tableGate</c>.</summary>
    private void Delete(Module state, List<int>? buckets, string why)
    {
        string module = state.Scanner.Module.Name;
        try
        {
            HashSet<int>? wanted = buckets is null ? null : [.. buckets];
            var stale = table.Dump().Where(f => state.Scanner.BucketOf(f) is int b && b >= 0 && (wanted is null || wanted.Contains(b))).ToList();
            if (stale.Count == 0)
            {
                return;
            }

            int deleted = table.Delete(stale).Count(f => f is not null);
            Log.Deleted(logger, module, deleted, buckets?.Count ?? state.Policy.BucketCount, why);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            Log.DeleteFailed(logger, module, why, e);
        }
    }

    private sealed class Module(DrainScanner scanner, StaleEntryPolicy policy)
    {
        public DrainScanner Scanner { get; } = scanner;

        public StaleEntryPolicy Policy { get; } = policy;

        /// <summary>Buckets <see cref="Settle"/> already cleaned for the rejoin of count <see cref="RejoinCount"/>; under <c>gate</c>.</summary>
        public HashSet<int> RejoinCleaned { get; } = [];

        public long RejoinCount { get; set; } = -1;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Module {Module}: deleted {Count} conntrack entries of {Buckets} buckets ({Why}): this node no longer answers those flows")]
        public static partial void Deleted(ILogger logger, string module, int count, int buckets, string why);

        [LoggerMessage(EventId = 3501, Level = LogLevel.Warning, Message = "Module {Module}: deleting stale conntrack entries ({Why}) failed: until they time out, this node may answer flows another node serves")]
        public static partial void DeleteFailed(ILogger logger, string module, string why, Exception exception);
    }
}
