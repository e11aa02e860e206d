using System.Globalization;

namespace Farm.Testing.Nftables;

/// <summary>One read of every node, in node order (node 0 read first).</summary>
/// <param name="Number">0 for the first round.</param>
/// <param name="Reads">One per node.</param>
public sealed record KernelRound(long Number, IReadOnlyList<KernelRead> Reads)
{
    /// <summary>When the round's first read started: what a round found missing was missing at this moment or later.</summary>
    public TimeSpan From => Reads[0].From;

    /// <summary>When the round's last read returned.</summary>
    public TimeSpan At => Reads[^1].At;

    /// <summary>Buckets (of <paramref name="buckets"/>) that no node of <paramref name="nodes"/> accepted at this round.</summary>
    public int Uncovered(IEnumerable<int> nodes, int buckets)
    {
        var from = nodes.Select(n => Reads[n]).ToList();
        return Enumerable.Range(0, buckets).Count(b => !from.Any(r => r.Accepts(b)));
    }

    /// <summary>The node (index) whose kernel accepted each bucket of <paramref name="buckets"/>, -1 for none and -2 for several.</summary>
    public int[] Acceptors(int buckets) => [.. Enumerable.Range(0, buckets).Select(b =>
    {
        var nodes = Reads.Where(r => r.Accepts(b)).ToList();
        return nodes.Count switch { 0 => -1, 1 => nodes[0].Node, _ => -2 };
    })];

    /// <summary>True when every node holds a lease, nothing moves, and each bucket of <paramref name="buckets"/> has exactly one acceptor.</summary>
    public bool IsOneFarm(int buckets) => Reads.All(r => r.Leased && r.Settled) && Acceptors(buckets).All(a => a >= 0);

    /// <summary>
    /// The round for a report, times relative to <paramref name="origin"/>: the buckets (of <paramref name="buckets"/>)
    /// no node of <paramref name="nodes"/> (all when null) accepted, and per node when it was read, its lease and how
    /// many buckets it accepted.
    /// </summary>
    public string Describe(int buckets, TimeSpan origin, IEnumerable<int>? nodes = null)
    {
        var among = (nodes ?? Enumerable.Range(0, Reads.Count)).Select(n => Reads[n]).ToList();
        var dark = Enumerable.Range(0, buckets).Where(b => !among.Any(r => r.Accepts(b))).ToList();
        string each = string.Join(", ", Reads.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"node{r.Node} read {Ms(r.From - origin)}-{Ms(r.At - origin)} ms: {(r.Problem is { } p ? "unreadable (" + p + ")" : r.Leased ? $"lease to {Ms(r.LeaseUntil!.Value - origin)} ms" : "no lease")}, {r.Accepting.Count} accepted")));
        return string.Create(CultureInfo.InvariantCulture,
            $"buckets {string.Join(",", dark.Take(8))}{(dark.Count > 8 ? $" (+{dark.Count - 8})" : string.Empty)} had none ({each})");

        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
    }
}
