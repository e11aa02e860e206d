using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using Farm.Core.Buckets;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// The batch that replaces a module's bucket states and foreign flows in one transaction: each state set flushed and
/// refilled with its buckets, the state map flushed and refilled (each bucket run → goto its state's admit chain), the
/// foreign sets flushed and refilled. Written as farmd's own netlink batch (<see cref="NftNetlinkBatch"/>): an apply lies
/// on every hand-over's path (a Prepare's acknowledgement and a Commit wait for it), and through libnftables it cost a
/// parse and a cache fetch, 3-37 ms per apply on five farmd sharing two cores (partition tests, 2026-12-06).
/// </summary>
/// <remarks>
/// The elements are those nft 1.0.6 sends for the same text (<c>nft --debug=netlink</c>): marks in network byte order (the
/// rules turn the packet's mark into network order before the lookup), each run <c>a-b</c> as a start element <c>a</c> and
/// an interval-end element <c>b+1</c>, an interval-end element 0 first when no run starts at 0, map elements sorted by key;
/// a foreign flow's key is the address followed by the port in network order, padded to 4 bytes.
/// </remarks>
/// <param name="Table">The module's <c>inet</c> table.</param>
/// <param name="States">Each state set with its sorted buckets, in the order written.</param>
/// <param name="Map">The state map's name.</param>
/// <param name="Foreign">Each foreign set with its family and flows.</param>
internal sealed record NftStateBatch(
    string Table,
    IReadOnlyList<NftStateBatch.StateSet> States,
    string Map,
    IReadOnlyList<NftStateBatch.ForeignSet> Foreign) : INftSetBatch
{
    /// <summary>A state set: its buckets (sorted, distinct) and the admit chain the state map sends them to.</summary>
    public sealed record StateSet(string Name, IReadOnlyList<int> Buckets, string AdmitChain);

    /// <summary>A foreign set: the flows of its address family.</summary>
    public sealed record ForeignSet(string Name, IReadOnlyList<IPEndPoint> Flows);

    /// <inheritdoc />
    public string Text
    {
        get
        {
            var sb = new StringBuilder();
            var verdicts = new List<string>();
            foreach (var state in States)
            {
                sb.Append(Inv($"flush set inet {Table} {state.Name}\n"));
                if (state.Buckets.Count > 0)
                {
                    var ranges = NftRuleset.Ranges(state.Buckets).ToList();
                    sb.Append(Inv($"add element inet {Table} {state.Name} {{ {string.Join(", ", ranges)} }}\n"));
                    verdicts.AddRange(ranges.Select(r => Inv($"{r} : goto {state.AdmitChain}")));
                }
            }

            sb.Append(Inv($"flush map inet {Table} {Map}\n"));
            if (verdicts.Count > 0)
            {
                sb.Append(Inv($"add element inet {Table} {Map} {{ {string.Join(", ", verdicts)} }}\n"));
            }

            sb.Append(ForeignText);
            return sb.ToString();
        }
    }

    /// <summary>The foreign sets' part of <see cref="Text"/> alone.</summary>
    public string ForeignText
    {
        get
        {
            var sb = new StringBuilder();
            foreach (var set in Foreign)
            {
                sb.Append(Inv($"flush set inet {Table} {set.Name}\n"));
                if (set.Flows.Count > 0)
                {
                    sb.Append(Inv($"add element inet {Table} {set.Name} {{ {string.Join(", ", set.Flows.Select(f => Inv($"{f.Address} . {f.Port}")))} }}\n"));
                }
            }

            return sb.ToString();
        }
    }

    /// <inheritdoc />
    public (byte[] Datagram, uint Last) Build(uint firstSequence)
    {
        // At most one run per bucket, each two elements in its set and two in the map.
        int buckets = States.Sum(s => s.Buckets.Count);
        var batch = new NftNetlinkBatch(Table, firstSequence, 1024 + (buckets * 200) + (Foreign.Sum(f => f.Flows.Count) * 64));
        var map = new List<(int Start, int End, string Chain)>();
        foreach (var state in States)
        {
            var stateRuns = BucketRuns.Of(state.Buckets).ToList();
            batch.Flush(state.Name).Add(state.Name, Intervals(stateRuns.Select(r => (r.Start, r.End, (string?)null))));
            map.AddRange(stateRuns.Select(r => (r.Start, r.End, state.AdmitChain)));
        }

        map.Sort((a, b) => a.Start.CompareTo(b.Start));
        batch.Flush(Map).Add(Map, Intervals(map.Select(r => (r.Start, r.End, (string?)r.Chain))));
        foreach (var set in Foreign)
        {
            batch.Flush(set.Name).Add(set.Name, [.. set.Flows.Select(FlowKey).Select(k => new NftNetlinkBatch.Element(k))]);
        }

        return batch.Finish();
    }

    /// <summary>Sorted, disjoint runs as interval elements (see the remarks).</summary>
    private static List<NftNetlinkBatch.Element> Intervals(IEnumerable<(int Start, int End, string? Chain)> runs)
    {
        var elements = new List<NftNetlinkBatch.Element>();
        foreach (var (start, end, chain) in runs)
        {
            if (elements.Count == 0 && start != 0)
            {
                elements.Add(new NftNetlinkBatch.Element(NftNetlinkBatch.Mark(0), IntervalEnd: true));
            }

            elements.Add(new NftNetlinkBatch.Element(NftNetlinkBatch.Mark((uint)start), GotoChain: chain));
            elements.Add(new NftNetlinkBatch.Element(NftNetlinkBatch.Mark((uint)end + 1), IntervalEnd: true));
        }

        return elements;
    }

    /// <summary>The key of <c>address . port</c>: the address, then the port in network order in a 4-byte field.</summary>
    private static byte[] FlowKey(IPEndPoint flow)
    {
        byte[] address = flow.Address.GetAddressBytes();
        byte[] key = new byte[address.Length + 4];
        address.CopyTo(key, 0);
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(address.Length), (ushort)flow.Port);
        return key;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
