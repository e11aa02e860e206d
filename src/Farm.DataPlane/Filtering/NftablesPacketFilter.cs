using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using Farm.Core.Config;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// <see cref="IPacketFilter"/> on nftables: one <c>inet</c> and one <c>netdev</c> table named <c>farm_MODULE</c>
/// (nothing else on the host is touched), programmed through libnftables in-process.
/// </summary>
/// <remarks>
/// The foreign sets (UDP flows peers still serve) never lose a flow in the batch that changes bucket states: a packet
/// meets the state map and then, in a later rule, the foreign set, and the kernel may commit a batch between the two
/// lookups. So an apply writes the union of what the sets held and what the assignment lists, and the flows it no longer
/// lists leave with a lease refresh at least <see cref="ForeignHold"/> later, in a batch that changes no state.
/// </remarks>
public sealed partial class NftablesPacketFilter : IPacketFilter
{
    /// <summary>
    /// How long flows an apply no longer lists stay in the foreign sets: far longer than a packet spends between two
    /// rules of one chain, and shorter than a heartbeat interval, so the next lease refresh drops them.
    /// </summary>
    public static readonly TimeSpan ForeignHold = TimeSpan.FromMilliseconds(20);

    private readonly INftablesClient client;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private NftRuleset? ruleset;
    private HashSet<IPEndPoint> foreignHeld = []; // what the foreign sets hold: a superset of foreignListed
    private IPEndPoint[] foreignListed = []; // the flows the last apply listed
    private long statesWrittenAt;
    private string? written; // the last bucket-state batch the kernel took since the tables were installed
    private int disposed;

    /// <summary>
    /// Creates a filter that programs the network namespace of the calling thread (the daemon: the host's).
    /// </summary>
    /// <exception cref="DllNotFoundException">libnftables.so.1 is missing (Debian package libnftables1).</exception>
    [SupportedOSPlatform("linux")]
    public NftablesPacketFilter(ILogger<NftablesPacketFilter> logger, TimeProvider? time = null)
        : this(new LibNftablesClient(), logger, time)
    {
    }

    /// <summary>Creates a filter over any client (tests use a recording fake).</summary>
    internal NftablesPacketFilter(INftablesClient client, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(logger);
        this.client = client;
        this.logger = logger;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>The installed module's table name, or null.</summary>
    public string? TableName => ruleset?.TableName;

    /// <inheritdoc />
    public void Install(ModuleConfig moduleConfig)
    {
        ArgumentNullException.ThrowIfNull(moduleConfig);
        var next = new NftRuleset(moduleConfig);
        lock (gate)
        {
            ThrowIfDisposed();
            if (ruleset is not null && ruleset.TableName != next.TableName)
            {
                // A different module on the same instance: take the old one's tables down in the same transaction.
                client.Run(ruleset.Delete() + next.Install());
            }
            else
            {
                client.Run(next.Install());
            }

            ruleset = next;
            written = null; // a fresh table holds no bucket
            foreignHeld = []; // a fresh table holds no flow
            foreignListed = [];
            Rehearse(next, moduleConfig.Buckets);
        }

        Log.Installed(logger, next.TableName, moduleConfig.Interface, moduleConfig.Vips.Count, moduleConfig.Rules.Count);
    }

    /// <summary>
    /// Checks (a libnftables dry run: the kernel is not touched) an apply with every set filled and a lease refresh, and
    /// builds both netlink batches without sending them, so the first real ones find their code ready. In a farmd just
    /// started, the first apply that filled a set took 54-88 ms on a busy machine against 1-3 ms for the next ones, and it
    /// lies on a hand-over's path: the buckets a rejoining node takes accept nobody until it is done (failover benchmark,
    /// kill -9 and restart, 2026-12-05). A refusal here is only logged (a warning: the same apply for real would be
    /// refused too); the real apply reports its own.
    /// </summary>
    private void Rehearse(NftRuleset tables, int buckets)
    {
        IPEndPoint[] flows = [new(IPAddress.Parse("192.0.2.1"), 1024), new(IPAddress.Parse("2001:db8::1"), 1024)];
        // Runs of three buckets taken in turn by the four states: every set gets elements and ranges.
        var all = new BucketAssignment(0, Stripe(0), Stripe(1), Stripe(2), Stripe(3), flows);
        try
        {
            var states = tables.StateBatch(all);
            var lease = tables.Lease(TimeSpan.FromMilliseconds(150));
            client.Check(states.Text + lease.Text);
            _ = states.Build(0);
            _ = lease.Build(0);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.RehearsalFailed(logger, tables.TableName, e.Message);
        }

        IEnumerable<int> Stripe(int state) => Enumerable.Range(0, buckets).Where(b => b / 3 % 4 == state);
    }

    /// <inheritdoc />
    public void Apply(BucketAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        lock (gate)
        {
            var current = Installed();
            var held = new HashSet<IPEndPoint>(foreignHeld);
            held.UnionWith(assignment.ForeignFlows);
            var states = current.StateBatch(assignment, held);
            string batch = states.Text;
            foreignListed = [.. assignment.ForeignFlows];
            if (batch == written)
            {
                // The kernel holds these sets already (a promise that moves none of this node's buckets, a snapshot whose
                // only change is the view it reflects): a batch costs a libnftables parse and a kernel transaction, 5-50
                // ms on a busy machine, and a Prepare's acknowledgement waits for it. The sets held no flow more: held
                // is what the last batch wrote, and the flows this one no longer lists leave with a lease refresh.
                Log.Unchanged(logger, current.TableName, assignment.Epoch);
                return;
            }

            client.Write(states);
            written = batch;
            foreignHeld = held;
            statesWrittenAt = time.GetTimestamp();
            Log.Applied(logger, current.TableName, assignment.Epoch, assignment.Owned.Count, assignment.Incoming.Count, assignment.Draining.Count);
        }
    }

    /// <inheritdoc />
    public void RefreshLease(TimeSpan duration)
    {
        lock (gate)
        {
            var current = Installed();
            var lease = current.Lease(duration);
            bool dropFlows = foreignHeld.Count > foreignListed.Length && time.GetElapsedTime(statesWrittenAt) >= ForeignHold;
            if (!dropFlows)
            {
                client.Write(lease); // the common case, 20 times a second: a netlink batch of our own
            }
            else
            {
                client.Run(lease.Text + current.Foreign(foreignListed));
                foreignHeld = [.. foreignListed];
                written = null; // the foreign sets no longer hold what the last batch wrote
            }
        }
    }

    /// <inheritdoc />
    public FilterCounters ReadCounters()
    {
        string json;
        lock (gate)
        {
            json = client.List(Installed().ListCounters());
        }

        return ParseCounters(json);
    }

    /// <inheritdoc />
    public void Remove()
    {
        lock (gate)
        {
            if (ruleset is null || Volatile.Read(ref disposed) != 0)
            {
                return;
            }

            client.Run(ruleset.Delete());
            Log.Removed(logger, ruleset.TableName);
            ruleset = null;
            written = null;
        }
    }

    /// <summary>
    /// Deletes every <c>farm_*</c> table of the calling thread's namespace except <paramref name="keep"/>: the leftovers of a
    /// crashed daemon, whose lease has lapsed but whose tables still drop traffic to the VIPs. Returns the tables deleted.
    /// </summary>
    public IReadOnlyList<string> RemoveLeftoverTables(IReadOnlySet<string>? keep = null)
    {
        var deleted = new List<string>();
        lock (gate)
        {
            ThrowIfDisposed();
            // Text, not JSON: nft 1.0.6 cannot print the live tables (owner flag) as JSON. Lines: "table FAMILY NAME".
            foreach (string line in client.List("list tables", json: false).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words is ["table", "inet" or "netdev", var name]
                    && name.StartsWith(NftRuleset.TablePrefix, StringComparison.Ordinal)
                    && keep?.Contains(name) != true)
                {
                    client.Run(Inv($"delete table {words[1]} {name}\n"));
                    deleted.Add($"{words[1]} {name}");
                }
            }
        }

        foreach (string table in deleted)
        {
            Log.LeftoverRemoved(logger, table);
        }

        return deleted;
    }

    /// <summary>Removes the filter (fail-closed is no longer needed once the module is stopped) and releases libnftables.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (Volatile.Read(ref disposed) != 0)
            {
                return;
            }

            try
            {
                Remove();
            }
            finally
            {
                Volatile.Write(ref disposed, 1);
                client.Dispose();
            }
        }
    }

    /// <summary>Parses <c>nft -j list counters</c> output.</summary>
    internal static FilterCounters ParseCounters(string json)
    {
        var values = new Dictionary<string, CounterValue>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("counter", out var counter) && counter.GetProperty("name").GetString() is { } name)
            {
                values[name] = new CounterValue(counter.GetProperty("packets").GetUInt64(), counter.GetProperty("bytes").GetUInt64());
            }
        }

        return new FilterCounters(values);
    }

    private NftRuleset Installed()
    {
        ThrowIfDisposed();
        return ruleset ?? throw new InvalidOperationException("The packet filter is not installed; call Install first.");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Information, "Installed nft tables {Table} on {Interface} ({VipCount} VIPs, {RuleCount} port rules); fail-closed until a lease and buckets are applied.")]
        public static partial void Installed(ILogger logger, string table, string @interface, int vipCount, int ruleCount);

        [LoggerMessage(2002, LogLevel.Debug, "{Table}: applied epoch {Epoch}: {Owned} owned, {Incoming} incoming, {Draining} draining buckets.")]
        public static partial void Applied(ILogger logger, string table, long epoch, int owned, int incoming, int draining);

        [LoggerMessage(2005, LogLevel.Debug, "{Table}: epoch {Epoch} changes no bucket set: nothing written.")]
        public static partial void Unchanged(ILogger logger, string table, long epoch);

        [LoggerMessage(2006, LogLevel.Warning, "{Table}: nft refused a dry run of an apply with every set filled ({Problem}): the same apply for real will fail too")]
        public static partial void RehearsalFailed(ILogger logger, string table, string problem);

        [LoggerMessage(2003, LogLevel.Information, "Removed nft tables {Table}.")]
        public static partial void Removed(ILogger logger, string table);

        // Debug: the caller reports what was removed once (DataPlaneHost's event 409, farmd --cleanup's output).
        [LoggerMessage(2004, LogLevel.Debug, "Removed leftover nft table {Table} of an earlier run.")]
        public static partial void LeftoverRemoved(ILogger logger, string table);
    }
}
