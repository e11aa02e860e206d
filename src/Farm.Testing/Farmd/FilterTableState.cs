using System.Text.Json;

namespace Farm.Testing.Farmd;

/// <summary>
/// What a node's kernel filter for one module holds right now, read with <c>nft -j list ruleset inet</c> (its <c>farm_MODULE</c> and <c>farmlive_MODULE</c> tables)
/// inside the node's namespace: the bucket sets farmd applied and whether its lease is alive. This is the live table
/// the kernel enforces, independent of what farmd reports about itself.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class FilterTableState
{
    private FilterTableState(IReadOnlySet<int> owned, IReadOnlySet<int> incoming, IReadOnlySet<int> draining, IReadOnlySet<int> claimed, int leaseElements, bool live)
    {
        Live = live;
        Owned = owned;
        Incoming = incoming;
        Draining = draining;
        Claimed = claimed;
        LeaseElements = leaseElements;
    }

    /// <summary>Buckets in the <c>owned</c> set.</summary>
    public IReadOnlySet<int> Owned { get; }

    /// <summary>Buckets in the <c>incoming</c> set.</summary>
    public IReadOnlySet<int> Incoming { get; }

    /// <summary>Buckets in the <c>draining</c> set.</summary>
    public IReadOnlySet<int> Draining { get; }

    /// <summary>Buckets in the <c>claimed</c> set (taken over, waiting for the peers' drain reports).</summary>
    public IReadOnlySet<int> Claimed { get; }

    /// <summary>VIPs currently in the <c>lease4</c>/<c>lease6</c> sets (their elements expire when farmd stops refreshing).</summary>
    public int LeaseElements { get; }

    /// <summary>
    /// True while the module's live table exists: the farmd that programs the node runs (the kernel deletes the table
    /// when its process dies, and the filter then drops all VIP traffic).
    /// </summary>
    public bool Live { get; }

    /// <summary>True while at least one lease element has not expired and farmd lives: the node may accept VIP traffic.</summary>
    public bool HasLease => LeaseElements > 0 && Live;

    /// <summary>True when no bucket is moving (no incoming, claimed or draining bucket).</summary>
    public bool IsSettled => Incoming.Count == 0 && Draining.Count == 0 && Claimed.Count == 0;

    /// <summary>Buckets that take new flows here: owned, incoming and claimed (new TCP connections).</summary>
    public IReadOnlySet<int> AcceptingNewFlows => Owned.Union(Incoming).Union(Claimed).ToHashSet();

    /// <summary>Reads the module's tables in <paramref name="ns"/>; null when its filter table does not exist.</summary>
    public static async Task<FilterTableState?> ReadAsync(NetworkNamespace ns, string module, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        try
        {
            // One listing for both tables: the filter and its live table.
            var result = await ns.NftAsync(["-j", "list", "ruleset", "inet"], cancellationToken: cancellationToken);
            return Parse(result.StandardOutput, module);
        }
        catch (CommandFailedException)
        {
            return null; // no such table
        }
    }

    /// <summary>
    /// Parses <c>nft -j list ruleset inet</c> output for <paramref name="module"/>: the sets of its <c>farm_</c> table and
    /// whether its <c>farmlive_</c> table exists; null when the <c>farm_</c> table does not.
    /// </summary>
    /// <exception cref="FormatException">A set element has a shape this reader does not know.</exception>
    public static FilterTableState? Parse(string json, string module)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(module);
        string table = "farm_" + module.Replace('-', '_');
        string live = "farmlive_" + module.Replace('-', '_');
        var sets = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        int lease = 0;
        bool found = false, alive = false;
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (item.TryGetProperty("table", out var t) && t.GetProperty("family").GetString() == "inet")
            {
                found |= t.GetProperty("name").GetString() == table;
                alive |= t.GetProperty("name").GetString() == live;
                continue;
            }

            if (!item.TryGetProperty("set", out var set) || set.GetProperty("name").GetString() is not { } name
                || set.GetProperty("table").GetString() != table)
            {
                continue;
            }

            if (!set.TryGetProperty("elem", out var elements))
            {
                continue;
            }

            if (name.StartsWith("lease", StringComparison.Ordinal))
            {
                lease += elements.GetArrayLength();
                continue;
            }

            if (name is not ("owned" or "incoming" or "draining" or "claimed"))
            {
                continue; // the VIP sets
            }

            var buckets = sets.TryGetValue(name, out var existing) ? existing : sets[name] = [];
            foreach (var element in elements.EnumerateArray())
            {
                AddBuckets(buckets, element);
            }
        }

        return found ? new FilterTableState(Get("owned"), Get("incoming"), Get("draining"), Get("claimed"), lease, alive) : null;

        IReadOnlySet<int> Get(string name) => sets.TryGetValue(name, out var s) ? s : new HashSet<int>();
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"owned {Owned.Count}, incoming {Incoming.Count}, draining {Draining.Count}, lease elements {LeaseElements}{(Live ? "" : ", farmd gone")}");

    private static void AddBuckets(HashSet<int> buckets, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                buckets.Add(element.GetInt32());
                return;
            case JsonValueKind.Object when element.TryGetProperty("range", out var range):
                int first = range[0].GetInt32();
                int last = range[1].GetInt32();
                for (int b = first; b <= last; b++)
                {
                    buckets.Add(b);
                }

                return;
            case JsonValueKind.Object when element.TryGetProperty("prefix", out var prefix):
                // nft may print an aligned range as a prefix of the 32-bit mark: addr/len.
                int start = prefix.GetProperty("addr").GetInt32();
                int length = prefix.GetProperty("len").GetInt32();
                long count = 1L << (32 - length);
                for (long b = start; b < start + count; b++)
                {
                    buckets.Add((int)b);
                }

                return;
            case JsonValueKind.Object when element.TryGetProperty("elem", out var wrapped):
                AddBuckets(buckets, wrapped.GetProperty("val"));
                return;
            default:
                throw new FormatException($"Unexpected element in a bucket set: {element.GetRawText()}");
        }
    }
}
