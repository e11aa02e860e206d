using System.Text.Json;

namespace Farm.Testing.Farmd;

/// <summary>
/// What a node's kernel filter for one module holds right now, read with <c>nft -j list table inet farm_MODULE</c> (and whether its <c>farmlive_MODULE</c> table exists)
/// inside the node's namespace: the bucket sets farmd applied and whether its lease is alive. This is the live table
/// the kernel enforces, independent of what farmd reports about itself.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class FilterTableState
{
    private FilterTableState(
        IReadOnlySet<int> owned, IReadOnlySet<int> incoming, IReadOnlySet<int> draining, IReadOnlySet<int> claimed, int leaseElements, bool live = true, TimeSpan? leaseExpiresIn = null)
    {
        Live = live;
        Owned = owned;
        Incoming = incoming;
        Draining = draining;
        Claimed = claimed;
        LeaseElements = leaseElements;
        LeaseExpiresIn = leaseExpiresIn;
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
    /// when its process dies, and the filter then drops all VIP traffic). Always true from <see cref="ParseText"/>,
    /// which sees only the filter table: its callers check the live table apart.
    /// </summary>
    public bool Live { get; }

    /// <summary>
    /// From the text listing (<see cref="ParseText"/>): how long after the read the longest-lived lease element still
    /// lives (null without lease elements, and from the JSON listing, which nft 1.0.6 prints in whole seconds).
    /// </summary>
    public TimeSpan? LeaseExpiresIn { get; }

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
            // The live table apart, as text: nft 1.0.6 cannot print an owner-flagged table as JSON.
            var filter = ns.NftAsync(["-j", "list", "table", "inet", Nftables.KernelBucketSampler.FilterTableName(module)], cancellationToken: cancellationToken);
            var tables = ns.NftAsync(["list", "tables", "inet"], cancellationToken: cancellationToken);
            string live = "table inet " + Nftables.KernelBucketSampler.LiveTableName(module);
            bool alive = (await tables).StandardOutput.Split('\n').Any(l => l.Trim() == live);
            return Parse((await filter).StandardOutput, alive);
        }
        catch (CommandFailedException)
        {
            return null; // no such table
        }
    }

    /// <summary>
    /// Parses <c>nft -j list table</c> output of a module's filter table; <paramref name="live"/>: whether its
    /// <c>farmlive_</c> table exists.
    /// </summary>
    /// <exception cref="FormatException">A set element has a shape this reader does not know.</exception>
    public static FilterTableState Parse(string json, bool live = true)
    {
        ArgumentNullException.ThrowIfNull(json);
        var sets = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        int lease = 0;
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("set", out var set) || set.GetProperty("name").GetString() is not { } name)
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

        return new FilterTableState(Get("owned"), Get("incoming"), Get("draining"), Get("claimed"), lease, live);

        IReadOnlySet<int> Get(string name) => sets.TryGetValue(name, out var s) ? s : new HashSet<int>();
    }

    /// <summary>
    /// Parses <c>nft list table</c> text output of a farm table: the same sets as <see cref="Parse"/> plus how long the
    /// lease elements still live (<see cref="LeaseExpiresIn"/>; the kernel lists no expired element). The text form is
    /// what a sampler reads, because nft 1.0.6's JSON rounds a lease of 150 ms to 0 s.
    /// </summary>
    /// <exception cref="FormatException">An element has a shape this reader does not know.</exception>
    public static FilterTableState ParseText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sets = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        int lease = 0;
        TimeSpan? longest = null;
        string? set = null;
        StringBuilder? elements = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (elements is null && line.StartsWith("set ", StringComparison.Ordinal) && line.EndsWith('{'))
            {
                set = line[4..^1].Trim();
                continue;
            }

            if (elements is null)
            {
                int start = line.IndexOf("elements = {", StringComparison.Ordinal);
                if (start < 0 || set is null)
                {
                    continue;
                }

                elements = new StringBuilder();
                line = line[(start + "elements = {".Length)..];
            }

            int end = line.IndexOf('}', StringComparison.Ordinal);
            elements.Append(end < 0 ? line : line[..end]).Append(' ');
            if (end < 0)
            {
                continue;
            }

            string[] items = elements.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            elements = null;
            if (set!.StartsWith("lease", StringComparison.Ordinal))
            {
                foreach (string item in items)
                {
                    lease++;
                    int at = item.IndexOf(" expires ", StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        var left = ParseDuration(item[(at + " expires ".Length)..].Split(' ')[0]);
                        longest = longest is { } l && l >= left ? l : left;
                    }
                }
            }
            else if (set is "owned" or "incoming" or "draining" or "claimed")
            {
                var buckets = sets.TryGetValue(set, out var existing) ? existing : sets[set] = [];
                foreach (string item in items)
                {
                    // "0x00000005", a range "0x00000001-0x00000005", or an aligned range as a prefix "0x00000000/24".
                    string[] bounds = item.Split('-', '/');
                    long first = ParseMark(bounds[0]);
                    long last = bounds.Length == 1 ? first
                        : item.Contains('/', StringComparison.Ordinal) ? first + (1L << (32 - (int)ParseMark(bounds[1]))) - 1
                        : bounds.Length == 2 ? ParseMark(bounds[1]) : throw new FormatException($"Unexpected element in set {set}: {item}");
                    for (long b = first; b <= last; b++)
                    {
                        buckets.Add((int)b);
                    }
                }
            }
        }

        return new FilterTableState(Get("owned"), Get("incoming"), Get("draining"), Get("claimed"), lease, leaseExpiresIn: longest);

        IReadOnlySet<int> Get(string name) => sets.TryGetValue(name, out var s) ? s : new HashSet<int>();
    }

    /// <summary>An nft duration as printed (<c>1s468ms</c>, <c>116ms</c>, <c>2m</c>).</summary>
    private static TimeSpan ParseDuration(string text)
    {
        var total = TimeSpan.Zero;
        int i = 0;
        while (i < text.Length)
        {
            int digits = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            long value = long.Parse(text.AsSpan(digits, i - digits), NumberStyles.None, CultureInfo.InvariantCulture);
            int unit = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            total += text[unit..i] switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                "d" => TimeSpan.FromDays(value),
                _ => throw new FormatException($"Unexpected duration: {text}"),
            };
        }

        return total;
    }

    private static long ParseMark(string text) => text.StartsWith("0x", StringComparison.Ordinal)
        ? long.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
        : long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

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
