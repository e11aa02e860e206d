namespace Farm.Testing.Nftables;

/// <summary>
/// The faults a test puts into one node's namespace, as one nft table of its own (<see cref="Table"/>, beside farmd's
/// <c>farm_*</c> tables): packets from and to <see cref="Blocked"/> addresses are dropped (a partition seen from this
/// node), and packets from <see cref="LossySources"/> are dropped at random with <see cref="LossPercent"/> (a lossy LAN).
/// The hooks sit before conntrack (priority -400), so a dropped packet leaves no trace in the node's tables.
/// </summary>
public sealed record FaultRules
{
    /// <summary>The table's name (family inet).</summary>
    public const string Table = "farmtest_faults";

    /// <summary>Addresses this node neither hears nor reaches. Default none.</summary>
    public IReadOnlySet<IPAddress> Blocked { get; init; } = new HashSet<IPAddress>();

    /// <summary>Source networks whose packets this node loses at random. Default none.</summary>
    public IReadOnlyList<IPNetwork> LossySources { get; init; } = [];

    /// <summary>Percentage of <see cref="LossySources"/> packets dropped, 0 to 100. Default 20.</summary>
    public int LossPercent { get; init; } = 20;

    /// <summary>No fault: the script removes the table.</summary>
    public bool IsEmpty => Blocked.Count == 0 && LossySources.Count == 0;

    /// <summary>One nft transaction that replaces the table with these rules (or removes it when there are none).</summary>
    public string Script()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(LossPercent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(LossPercent, 100);

        // "add table" first, so the delete never fails on a missing table: the whole batch is atomic either way.
        var sb = new StringBuilder().Append(Inv($"add table inet {Table}\ndelete table inet {Table}\n"));
        if (IsEmpty)
        {
            return sb.ToString();
        }

        var input = new StringBuilder();
        var output = new StringBuilder();
        foreach (var family in Blocked.GroupBy(a => a.AddressFamily))
        {
            string ip = family.Key == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
            string list = string.Join(", ", family.Select(a => a.ToString()).Order(StringComparer.Ordinal));
            input.Append(Inv($"    {ip} saddr {{ {list} }} counter drop\n"));
            output.Append(Inv($"    {ip} daddr {{ {list} }} counter drop\n"));
        }

        foreach (var network in LossySources)
        {
            string ip = network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
            input.Append(Inv($"    {ip} saddr {network} numgen random mod 100 < {LossPercent} counter drop\n"));
        }

        return sb.Append(Inv($"table inet {Table} {{\n  chain in {{\n    type filter hook prerouting priority -400; policy accept;\n{input}  }}\n"))
            .Append(Inv($"  chain out {{\n    type filter hook output priority -400; policy accept;\n{output}  }}\n}}\n"))
            .ToString();
    }

    /// <summary>The packets the rules of a listing of <see cref="Table"/> (<c>list table inet farmtest_faults</c>) dropped, summed.</summary>
    public static long DroppedPackets(string listing)
    {
        ArgumentNullException.ThrowIfNull(listing);
        long total = 0;
        foreach (string part in listing.Split("counter packets ", StringSplitOptions.None).Skip(1))
        {
            total += long.Parse(part.AsSpan(0, part.IndexOf(' ', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return total;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
