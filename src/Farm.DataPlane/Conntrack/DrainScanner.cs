using System.Collections.Immutable;
using System.Net;
using Farm.Core.Config;
using Farm.Core.Hashing;

namespace Farm.DataPlane.Conntrack;

/// <summary>
/// Turns conntrack entries into per-bucket drain facts for one module: which draining buckets still hold live
/// connections, and which UDP clients the draining node still serves. Pure.
/// </summary>
/// <remarks>
/// A flow belongs to the module when its original destination is one of the module's VIPs and its protocol and
/// destination port match a port rule (the first one, in configuration order, as the nft chains match). Its bucket is
/// computed as the kernel rule computes it (<see cref="BucketHasher"/> with the rule's affinity: the client address, or
/// the client address and source port), so the scan and the packet filter always agree on which bucket a flow is in.
/// </remarks>
public sealed class DrainScanner
{
    private readonly HashSet<IPAddress> vips;
    private readonly PortRuleConfig[] rules;
    private readonly BucketHasher hasher;

    /// <summary>Creates a scanner for <paramref name="module"/>'s VIPs, rules, bucket count and seed.</summary>
    public DrainScanner(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        Module = module;
        vips = [.. module.Vips.Select(Normalize)];
        rules = [.. module.Rules];
        hasher = new BucketHasher(module.Buckets, module.Seed);
    }

    /// <summary>The module scanned.</summary>
    public ModuleConfig Module { get; }

    /// <summary>The bucket <paramref name="flow"/> is in, or -1 when it is not addressed to one of the module's VIPs and rules.</summary>
    /// <exception cref="ArgumentException">The flow's ports lie outside 0-65535 or an address is missing.</exception>
    public int BucketOf(TrackedFlow flow)
    {
        if (flow.Source is null || flow.Destination is null)
        {
            throw new ArgumentException($"Flow {flow} lacks an address.", nameof(flow));
        }

        if (flow.SourcePort is < 0 or > ushort.MaxValue || flow.DestinationPort is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentException($"Flow {flow} has a port outside 0-65535.", nameof(flow));
        }

        if (!vips.Contains(Normalize(flow.Destination)) || RuleOf(flow) is not { } rule)
        {
            return -1;
        }

        return hasher.BucketOf(new ClientKey(flow.Source, (ushort)flow.SourcePort), rule.Affinity);
    }

    /// <summary>
    /// Scans one dump: the draining buckets that still hold a live flow of the module, and the client endpoints of the
    /// live UDP flows in them. Flows of other buckets, other VIPs or unmatched ports are ignored.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A draining bucket lies outside 0 to <c>Buckets - 1</c>.</exception>
    public DrainScan Scan(IEnumerable<TrackedFlow> flows, IReadOnlyCollection<int> drainingBuckets)
    {
        ArgumentNullException.ThrowIfNull(flows);
        ArgumentNullException.ThrowIfNull(drainingBuckets);
        var draining = new bool[Module.Buckets];
        foreach (int bucket in drainingBuckets)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bucket, nameof(drainingBuckets));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bucket, Module.Buckets, nameof(drainingBuckets));
            draining[bucket] = true;
        }

        if (drainingBuckets.Count == 0)
        {
            return DrainScan.Empty;
        }

        var busy = new SortedSet<int>();
        var udp = new HashSet<FlowKey>();
        int live = 0;
        foreach (var flow in flows)
        {
            if (!flow.Live)
            {
                continue;
            }

            int bucket = BucketOf(flow);
            if (bucket < 0 || !draining[bucket])
            {
                continue;
            }

            busy.Add(bucket);
            live++;
            if (flow.Protocol == TransportProtocol.Udp)
            {
                udp.Add(new FlowKey(Normalize(flow.Source), flow.SourcePort));
            }
        }

        return new DrainScan(busy.ToImmutableSortedSet(), [.. udp.Order(FlowKeyOrder.Instance)], live);
    }

    private PortRuleConfig? RuleOf(TrackedFlow flow)
    {
        foreach (var rule in rules)
        {
            if (rule.Protocol == flow.Protocol && flow.DestinationPort >= rule.FirstPort && flow.DestinationPort <= rule.LastPort)
            {
                return rule;
            }
        }

        return null;
    }

    // The kernel sees an IPv4 client as IPv4, never as ::ffff:a.b.c.d; ClientKey normalizes the same way.
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>IPv4 before IPv6, then address bytes, then port: the same list on every run.</summary>
    private sealed class FlowKeyOrder : IComparer<FlowKey>
    {
        public static readonly FlowKeyOrder Instance = new();

        public int Compare(FlowKey x, FlowKey y)
        {
            Span<byte> a = stackalloc byte[16];
            Span<byte> b = stackalloc byte[16];
            x.Address.TryWriteBytes(a, out int lengthA);
            y.Address.TryWriteBytes(b, out int lengthB);
            int order = lengthA.CompareTo(lengthB);
            if (order == 0)
            {
                order = a[..lengthA].SequenceCompareTo(b[..lengthB]);
            }

            return order != 0 ? order : x.Port.CompareTo(y.Port);
        }
    }
}
