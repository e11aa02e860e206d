using Farm.Core.Config;
using Farm.DataPlane.Conntrack;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Runtime;

/// <summary>
/// Deletes the conntrack entries of the buckets a node may no longer trust, as <see cref="StaleEntryPolicy"/> says:
/// every entry of a module when its data plane starts, a bucket's when it stops being served here, and the served
/// buckets' when the node claims buckets after it was out of the view. <see cref="DataPlaneHost"/> calls it under its
/// lock, around each apply, so no packet gets between a decision and the kernel change.
/// </summary>
/// <remarks>
/// A bucket's entries are found by dumping the table and hashing each entry of the module's VIPs and port rules into
/// its bucket (<see cref="DrainScanner.BucketOf"/>, the filter's own hash), then deleted by tuple. A deletion that fails
/// is logged and not retried: the entries it left can let the node answer those flows again (the gap this closes).
/// </remarks>
public sealed partial class StaleEntryCleaner : IDisposable
{
    private readonly IConntrackTable table;
    private readonly ILogger logger;
    private readonly Dictionary<string, Module> modules = new(StringComparer.Ordinal);

    /// <summary>Cleans <paramref name="table"/>, the conntrack table of the namespace the data plane runs in.</summary>
    public StaleEntryCleaner(IConntrackTable table, ILogger<StaleEntryCleaner> logger)
    {
        this.table = table ?? throw new ArgumentNullException(nameof(table));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>
    /// The data plane of <paramref name="module"/> started (fail-closed, no lease yet; also again after an admin stop):
    /// deletes every entry of the module and starts its policy afresh.
    /// </summary>
    public void Started(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var state = modules[module.Name] = new Module(new DrainScanner(module), new StaleEntryPolicy(module.Buckets));
        Delete(state, null, "the data plane started");
    }

    /// <summary>Closes the table (when it is disposable).</summary>
    public void Dispose() => (table as IDisposable)?.Dispose();

    /// <summary>
    /// The kernel is about to take the states <paramref name="snapshot"/> gives <paramref name="module"/> (all none while
    /// it is not <paramref name="accepting"/> or the snapshot lacks it): deletes what must go before, returns the buckets
    /// to clean once it took them (<see cref="AfterApply"/>). Nothing for a module that did not start, or states of
    /// another bucket count.
    /// </summary>
    public IReadOnlyList<int> BeforeApply(ModuleConfig module, bool accepting, OwnershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(snapshot);
        var states = accepting && snapshot.Modules.TryGetValue(module.Name, out var held) ? held.States : new BucketState[module.Buckets];
        if (!modules.TryGetValue(module.Name, out var state) || states.Length != state.Policy.BucketCount)
        {
            return [];
        }

        var stale = state.Policy.Next(states, snapshot);
        if (stale.BeforeApply.Count > 0)
        {
            Delete(state, stale.BeforeApply, "claimed after this node was out of the view");
        }

        return stale.AfterApply;
    }

    /// <summary>The kernel took the states: deletes the entries of <paramref name="buckets"/> (from <see cref="BeforeApply"/>), no longer served here.</summary>
    public void AfterApply(string module, IReadOnlyList<int> buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        if (buckets.Count > 0 && modules.TryGetValue(module, out var state))
        {
            Delete(state, buckets, "no longer served here");
        }
    }

    /// <summary>Deletes the module's entries in <paramref name="buckets"/> (every bucket when null).</summary>
    private void Delete(Module state, IReadOnlyList<int>? buckets, string why)
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
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Module {Module}: deleted {Count} conntrack entries of {Buckets} buckets ({Why}): this node no longer answers those flows")]
        public static partial void Deleted(ILogger logger, string module, int count, int buckets, string why);

        [LoggerMessage(EventId = 3501, Level = LogLevel.Warning, Message = "Module {Module}: deleting stale conntrack entries ({Why}) failed: until they time out, this node may answer flows another node serves")]
        public static partial void DeleteFailed(ILogger logger, string module, string why, Exception exception);
    }
}
