using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Farm.Core.Buckets;
using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.DataPlane.Addressing;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// Generates the nft command text of one module's filter. Pure: no I/O, so unit tests read the exact rules.
/// See docs/dataplane.md for why each chain sits where it does.
/// </summary>
internal sealed class NftRuleset
{
    /// <summary>Every table Farm creates starts with this; leftovers of a crashed run are found by it.</summary>
    public const string TablePrefix = "farm_";

    /// <summary>
    /// The prefix of the module's <em>live</em> table: owned by farmd's netlink socket (<c>flags owner</c>), so the kernel
    /// deletes it the moment the process dies. It never outlives its process, so it is never a leftover (and another
    /// process may not touch it: the kernel refuses with EPERM).
    /// </summary>
    public const string LiveTablePrefix = "farmlive_";

    /// <summary>
    /// The mark the live table puts on VIP packets before the module's filter runs; the filter drops VIP traffic that
    /// lacks it. A dead farmd's live table is gone, so its node drops everything at once instead of at the lease's end.
    /// </summary>
    public const uint LiveMark = 0x666d6c76;

    /// <summary>The bucket states, each a set of bucket marks (read by the classify chain, the tests and status).</summary>
    private static readonly string[] States = ["owned", "incoming", "draining", "claimed"];

    /// <summary>The map from bucket mark to the admit chain of its state.</summary>
    private const string StateMap = "states";

    private readonly ModuleConfig module;
    private readonly IPAddress[] vips4;
    private readonly IPAddress[] vips6;

    /// <summary>Creates the generator for <paramref name="module"/>.</summary>
    public NftRuleset(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        this.module = module;
        TableName = TableNameOf(module.Name);
        LiveTableName = LiveTablePrefix + TableName[TablePrefix.Length..];
        vips4 = [.. module.Vips.Where(v => v.AddressFamily == AddressFamily.InterNetwork)];
        vips6 = [.. module.Vips.Where(v => v.AddressFamily == AddressFamily.InterNetworkV6)];
        RequireSafeInterfaceName(module.Interface);
    }

    /// <summary>The name of both tables (<c>inet</c> and <c>netdev</c>) of the module.</summary>
    public string TableName { get; }

    /// <summary>The module's live table (<see cref="LiveTablePrefix"/>).</summary>
    public string LiveTableName { get; }

    /// <summary>Number of port rules, hence of <c>rule_N</c> counters.</summary>
    public int RuleCount => module.Rules.Count;

    /// <summary><c>farm_</c> + the module name with '-' as '_' (module names never contain '_', so this is one-to-one).</summary>
    public static string TableNameOf(string moduleName)
    {
        ArgumentException.ThrowIfNullOrEmpty(moduleName);
        if (moduleName.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            throw new ArgumentException($"Module name '{moduleName}' may hold only a-z, 0-9 and '-'.", nameof(moduleName));
        }

        return TablePrefix + moduleName.Replace('-', '_');
    }

    /// <summary>Deletes both tables if they exist (add-then-delete: nft 1.0.6 has no <c>destroy</c>), as part of a batch.</summary>
    public static string DeleteTables(string tableName) =>
        $"""
        add table inet {tableName}
        delete table inet {tableName}
        add table netdev {tableName}
        delete table netdev {tableName}

        """;

    /// <summary>
    /// Deletes the module's tables and its live table (only the process that created the live table may: run it on the
    /// client that installed them). The <c>add</c> carries the owner flag: the kernel refuses to change it on a table.
    /// </summary>
    public string Delete() => DeleteTables(TableName) + Inv($"add table inet {LiveTableName} {{ flags owner; }}\ndelete table inet {LiveTableName}\n");

    /// <summary>
    /// The install batch: drops any previous version of the tables and creates them afresh, atomically. The live table
    /// is created with <c>flags owner</c>: the client that runs this batch owns it, and when that client's process dies
    /// the kernel deletes it (a live table another running process owns makes the batch fail: one farmd per module).
    /// </summary>
    public string Install()
    {
        var sb = new StringBuilder(Delete());
        string iface = Quote(module.Interface);
        string macs = string.Join(", ", module.Vips.Select(v => VirtualMac.Format(VirtualMac.For(v))));

        // Frames to a vMAC reach the host as OTHERHOST and the IP layer would drop them; make them ours.
        sb.Append(Inv($"table netdev {TableName} {{\n"));
        sb.Append("  chain ingress {\n");
        sb.Append(Inv($"    type filter hook ingress device {iface} priority -500; policy accept;\n"));
        sb.Append(Inv($"    ether daddr {{ {macs} }} meta pkttype set host\n"));
        sb.Append("  }\n}\n");

        // Just before the filter (raw is -300): the mark that says the process that programs this node still lives.
        sb.Append(Inv($"table inet {LiveTableName} {{\n"));
        sb.Append("  flags owner\n");
        sb.Append("  chain live {\n");
        sb.Append("    type filter hook prerouting priority -301; policy accept;\n");
        foreach (var (family, _, vips) in Families())
        {
            if (vips.Length > 0)
            {
                sb.Append(Inv($"    iifname {iface} {family} daddr {{ {string.Join(", ", vips.Select(a => a.ToString()))} }} meta mark set 0x{LiveMark:x8}\n"));
            }
        }

        sb.Append("  }\n}\n");

        sb.Append(Inv($"table inet {TableName} {{\n"));
        foreach (var (_, v, vips) in Families())
        {
            sb.Append(Inv($"  set vips{v} {{ type ipv{v}_addr;{Elements(vips)} }}\n"));
        }

        foreach (var (_, v, _) in Families())
        {
            sb.Append(Inv($"  set lease{v} {{ type ipv{v}_addr; flags timeout; }}\n"));
        }

        foreach (string set in States)
        {
            sb.Append(Inv($"  set {set} {{ type mark; flags interval; }}\n"));
        }

        // The same states as one map for the admit chain: see there why one lookup decides.
        sb.Append(Inv($"  map {StateMap} {{ type mark : verdict; flags interval; }}\n"));

        // UDP flows peers still serve in buckets they drain: never new flows here.
        foreach (var (_, v, _) in Families())
        {
            sb.Append(Inv($"  set foreign{v} {{ type ipv{v}_addr . inet_service; }}\n"));
        }

        foreach (string counter in CounterNames())
        {
            sb.Append(Inv($"  counter {counter} {{ }}\n"));
        }

        // Before conntrack (raw, -300; after defrag at -400): foreign packets die here and never create conntrack state.
        sb.Append("  chain classify {\n");
        sb.Append("    type filter hook prerouting priority raw; policy accept;\n");
        AppendVipJumps(sb, iface, v => $"vip{v}");
        sb.Append("  }\n");
        foreach (var (family, v, _) in Families())
        {
            AppendVipChain(sb, family, v);
        }

        sb.Append("  chain buckets {\n");
        sb.Append(Inv($"    meta mark @owned counter name {FilterCounters.Owned} accept\n"));
        sb.Append(Inv($"    meta mark @incoming counter name {FilterCounters.Incoming} accept\n"));
        sb.Append(Inv($"    meta mark @draining counter name {FilterCounters.Draining} accept\n"));
        sb.Append(Inv($"    meta mark @claimed counter name {FilterCounters.Incoming} accept\n"));
        sb.Append(Inv($"    counter name {FilterCounters.Foreign} drop\n"));
        sb.Append("  }\n");

        // After conntrack (mangle, -150): connection state exists now; the mark still holds the bucket.
        sb.Append("  chain handover {\n");
        sb.Append("    type filter hook prerouting priority mangle; policy accept;\n");
        AppendVipJumps(sb, iface, _ => "admit");
        sb.Append("  }\n");

        // One lookup in the state map decides which rules a packet meets. Set lookups are not pinned to one generation of
        // the ruleset: a packet that met a rule per state set could see a bucket's old state in one rule and its new state
        // in the next (measured: tests/bench/kernel/admit-race.sh), miss every state and be taken as new here while the
        // bucket's previous holder still serves its flow. A bucket the map does not name (it changed after the classify
        // chain let the packet in) is dropped.
        sb.Append("  chain admit {\n");
        sb.Append("    meta l4proto { icmp, ipv6-icmp } ct state related accept\n");
        sb.Append(Inv($"    meta l4proto {{ icmp, ipv6-icmp }} counter name {FilterCounters.IcmpDrop} drop\n"));
        sb.Append(Inv($"    meta mark vmap @{StateMap}\n"));
        AppendHandoverDrop(sb, "");
        sb.Append("  }\n");

        // Owned: accepted; clear the bucket mark so policy routing (fwmark rules) never sees it.
        sb.Append(Inv($"  chain {AdmitChain("owned")} {{\n"));
        sb.Append("    meta mark set 0 accept\n");
        sb.Append("  }\n");

        sb.Append(Inv($"  chain {AdmitChain("draining")} {{\n"));
        AppendAdmitTracked(sb);
        AppendHandoverDrop(sb, "");
        sb.Append("  }\n");

        // Incoming: new TCP connections, and datagrams of flows no draining peer serves (the foreign sets). The foreign sets
        // never lose a flow in the batch that changes a state (NftablesPacketFilter), so the state this packet met is
        // never paired with a foreign set that forgot that state's flows.
        sb.Append(Inv($"  chain {AdmitChain("incoming")} {{\n"));
        AppendAdmitTracked(sb);
        AppendAdmitNewTcp(sb);
        foreach (var (family, v, _) in Families())
        {
            AppendHandoverDrop(sb, Inv($"ct state new {family} saddr . udp sport @foreign{v} "));
        }

        sb.Append("    ct state new meta l4proto udp meta mark set 0 accept\n");
        AppendHandoverDrop(sb, "");
        sb.Append("  }\n");

        // Claimed: until every peer said whether it drains the bucket, only new TCP connections (a datagram could be a
        // draining peer's flow) and what this node tracks.
        sb.Append(Inv($"  chain {AdmitChain("claimed")} {{\n"));
        AppendAdmitTracked(sb);
        AppendAdmitNewTcp(sb);
        AppendHandoverDrop(sb, "");
        sb.Append("  }\n}\n");
        return sb.ToString();
    }

    /// <summary>
    /// The batch that replaces the bucket states (the four sets and the admit chain's map) and the foreign flows in one
    /// transaction, as nft text (dry runs, tests). <paramref name="foreign"/>: the flows to write, by default the
    /// assignment's; the filter passes a superset while the flows of the previous batch must stay (see
    /// <see cref="NftablesPacketFilter"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A bucket is not below the module's bucket count.</exception>
    public string Apply(BucketAssignment assignment, IReadOnlyCollection<IPEndPoint>? foreign = null) => StateBatch(assignment, foreign).Text;

    /// <summary>The batch of <see cref="Apply"/> as data, for the client's netlink path (<see cref="NftStateBatch"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bucket is not below the module's bucket count.</exception>
    public NftStateBatch StateBatch(BucketAssignment assignment, IReadOnlyCollection<IPEndPoint>? foreign = null)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.MaxBucket >= module.Buckets)
        {
            throw new ArgumentOutOfRangeException(nameof(assignment), $"Bucket {assignment.MaxBucket} is out of range: module {module.Name} has {module.Buckets} buckets.");
        }

        return new NftStateBatch(
            TableName,
            [
                new("owned", assignment.Owned, AdmitChain("owned")),
                new("incoming", assignment.Incoming, AdmitChain("incoming")),
                new("draining", assignment.Draining, AdmitChain("draining")),
                new("claimed", assignment.Claimed, AdmitChain("claimed")),
            ],
            StateMap,
            ForeignSets(foreign ?? assignment.ForeignFlows));
    }

    /// <summary>The batch that replaces the foreign flows (UDP flows peers still serve) with <paramref name="flows"/>.</summary>
    public string Foreign(IEnumerable<IPEndPoint> flows) => new NftStateBatch(TableName, [], StateMap, ForeignSets(flows)).ForeignText;

    private static NftStateBatch.ForeignSet[] ForeignSets(IEnumerable<IPEndPoint> flows)
    {
        ArgumentNullException.ThrowIfNull(flows);
        var all = flows.ToList();
        return
        [
            new("foreign4", [.. all.Where(f => f.AddressFamily == AddressFamily.InterNetwork)]),
            new("foreign6", [.. all.Where(f => f.AddressFamily == AddressFamily.InterNetworkV6)]),
        ];
    }

    /// <summary>The shortest lease <see cref="RefreshLease"/> takes: nft timeouts count whole milliseconds.</summary>
    public static readonly TimeSpan MinLease = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// The lease refresh: (re)inserts every VIP with a fresh timeout. add, delete, add: the first add makes the delete
    /// succeed whether or not the element had already expired, and the last add sets the new timeout on any kernel
    /// (only kernels from 6.10 on update the timeout of an element that is still there).
    /// </summary>
    public string RefreshLease(TimeSpan duration) => Lease(duration).Text;

    /// <summary>The lease refresh of <see cref="RefreshLease"/> as data, for the client's netlink path (<see cref="NftLeaseBatch"/>).</summary>
    public NftLeaseBatch.Refresh Lease(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, MinLease);
        long ms = (long)Math.Ceiling(duration.TotalMilliseconds);
        return new NftLeaseBatch.Refresh(
            TableName,
            [.. module.Vips.Select(vip => new NftLeaseBatch.Element(vip.AddressFamily == AddressFamily.InterNetwork ? "lease4" : "lease6", vip))],
            ms);
    }

    /// <summary>The command that lists the module's counters (run with JSON output).</summary>
    public string ListCounters() => $"list counters table inet {TableName}";

    /// <summary>All counter names the install batch creates.</summary>
    public IEnumerable<string> CounterNames() =>
        new[] { FilterCounters.Owned, FilterCounters.Incoming, FilterCounters.Draining, FilterCounters.Foreign, FilterCounters.NoLease, FilterCounters.Unmatched, FilterCounters.HandoverDrop, FilterCounters.IcmpDrop }
            .Concat(Enumerable.Range(0, module.Rules.Count).Select(FilterCounters.Rule));

    /// <summary>Sorted distinct buckets as nft elements, runs collapsed to ranges: <c>0-99, 200, 300-301</c>.</summary>
    internal static IEnumerable<string> Ranges(IReadOnlyList<int> sorted) =>
        BucketRuns.Of(sorted).Select(r => r.Start == r.End ? Inv($"{r.Start}") : Inv($"{r.Start}-{r.End}"));

    /// <summary>The admit chain of the buckets in state <paramref name="state"/>.</summary>
    private static string AdmitChain(string state) => "admit_" + state;

    /// <summary>The two address families as nft spells them, with the suffix of their sets and chains and the module's VIPs of each.</summary>
    private (string Family, int V, IPAddress[] Vips)[] Families() => [("ip", 4, vips4), ("ip6", 6, vips6)];

    /// <summary>A rule for each family that sends the packets to the module's VIPs on its interface to the chain <paramref name="chain"/> names.</summary>
    private void AppendVipJumps(StringBuilder sb, string iface, Func<int, string> chain)
    {
        foreach (var (family, v, _) in Families())
        {
            sb.Append(Inv($"    iifname {iface} {family} daddr @vips{v} jump {chain(v)}\n"));
        }
    }

    /// <summary>Admits what conntrack already tracks (the bucket mark cleared).</summary>
    private static void AppendAdmitTracked(StringBuilder sb) =>
        sb.Append("    ct state established,related meta mark set 0 accept\n");

    /// <summary>Admits a new TCP connection (a bare SYN).</summary>
    private static void AppendAdmitNewTcp(StringBuilder sb) =>
        sb.Append("    ct state new tcp flags & (syn | ack) == syn meta mark set 0 accept\n");

    /// <summary>Drops, and counts as a handover drop, what matches <paramref name="match"/> (empty: everything left).</summary>
    private static void AppendHandoverDrop(StringBuilder sb, string match) =>
        sb.Append(Inv($"    {match}counter name {FilterCounters.HandoverDrop} drop\n"));

    private void AppendVipChain(StringBuilder sb, string family, int v)
    {
        sb.Append(Inv($"  chain vip{v} {{\n"));

        // Fail closed: when the daemon stops refreshing, the VIP leaves the lease set and everything is dropped.
        sb.Append(Inv($"    {family} daddr != @lease{v} counter name {FilterCounters.NoLease} drop\n"));

        sb.Append(Inv($"    meta mark != 0x{LiveMark:x8} counter name {FilterCounters.NoLease} drop\n"));

        // ICMP to the VIP (errors such as fragmentation-needed) is judged after conntrack: only the node that tracks the connection keeps it.
        sb.Append(Inv($"    meta l4proto {(v == 6 ? "ipv6-icmp" : "icmp")} meta mark set 0 accept\n"));
        for (int i = 0; i < module.Rules.Count; i++)
        {
            var rule = module.Rules[i];
            string protocol = rule.Protocol == TransportProtocol.Udp ? "udp" : "tcp";
            string ports = rule.FirstPort == rule.LastPort ? Inv($"{rule.FirstPort}") : Inv($"{rule.FirstPort}-{rule.LastPort}");
            string key = rule.Affinity == Affinity.ClientIpPort ? $"{family} saddr . th sport" : $"{family} saddr";

            // The seed is always explicit: without it the kernel draws a random one per rule and nodes disagree.
            sb.Append(Inv($"    {protocol} dport {ports} counter name {FilterCounters.Rule(i)} meta mark set jhash {key} mod {module.Buckets} seed 0x{module.Seed:x8} goto buckets\n"));
        }

        sb.Append(Inv($"    counter name {FilterCounters.Unmatched} drop\n"));
        sb.Append("  }\n");
    }

    private static string Elements(IPAddress[] addresses) =>
        addresses.Length == 0 ? string.Empty : Inv($" elements = {{ {string.Join(", ", addresses.Select(a => a.ToString()))} }};");

    private static string Quote(string name) => "\"" + name + "\"";

    private static void RequireSafeInterfaceName(string name)
    {
        // The name lands inside nft text: refuse anything that could end the quoted string or a statement. The parser
        // applies the same rule, so a file that passed 'farmctl config check' never fails here.
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!InterfaceName.IsValid(name))
        {
            throw new ArgumentException($"Interface name '{name}' is not a plain Linux interface name.", nameof(name));
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
