using System.Globalization;

namespace Farm.Bench.Chaos;

/// <summary>
/// Watches every kernel round of the soak: two kernels accepting one bucket at once (<see cref="AcceptorOverlapChecker"/>,
/// leases taken into account) and, per round, how many buckets no kernel accepted; after the run it says when the
/// kernels covered every bucket again after a moment <c>E</c>.
/// </summary>
internal sealed class InvariantMonitor(int buckets)
{
    private readonly AcceptorOverlapChecker overlaps = new(buckets);
    private readonly List<(TimeSpan At, int Uncovered, string? Example)> coverage = [];
    private readonly Lock gate = new();
    private long rounds;
    private TimeSpan longestRound;
    private TimeSpan? previous;

    public long Rounds => Interlocked.Read(ref rounds);

    /// <summary>The longest time between the ends of two rounds.</summary>
    public TimeSpan LongestGap
    {
        get
        {
            lock (gate)
            {
                return longestRound;
            }
        }
    }

    /// <summary>The sampler's observer.</summary>
    public void OnRound(KernelRound round)
    {
        ArgumentNullException.ThrowIfNull(round);
        lock (gate)
        {
            overlaps.Add(round);
            int uncovered = round.Uncovered(Enumerable.Range(0, round.Reads.Count), buckets);
            coverage.Add((round.At, uncovered, uncovered == 0 ? null : Describe(round)));
            if (previous is { } p && round.At - p > longestRound)
            {
                longestRound = round.At - p;
            }

            previous = round.At;
        }

        Interlocked.Increment(ref rounds);
    }

    public IReadOnlyList<AcceptorOverlap> Overlaps()
    {
        lock (gate)
        {
            return [.. overlaps.Overlaps];
        }
    }

    /// <summary>
    /// The end of the first round at or after <paramref name="from"/> in which every bucket had a leased acceptor (null:
    /// none), and what the last round before it that left a bucket without one read (which buckets, each node's lease and
    /// count of accepted buckets), or null when none did.
    /// </summary>
    public (TimeSpan? Covered, string? LastGap) CoverageFrom(TimeSpan from)
    {
        string? last = null;
        lock (gate)
        {
            foreach (var (at, uncovered, example) in coverage)
            {
                if (at < from)
                {
                    continue;
                }

                if (uncovered == 0)
                {
                    return (at, last);
                }

                last = example;
            }
        }

        return (null, last);
    }

    private string Describe(KernelRound round)
    {
        var acceptors = round.Acceptors(buckets);
        var dark = Enumerable.Range(0, buckets).Where(b => acceptors[b] == -1).ToList();
        string nodes = string.Join(", ", round.Reads.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"node{r.Node} {(r.Leased ? "leased" : "no lease")} {r.Accepting.Count} accepted")));
        return string.Create(CultureInfo.InvariantCulture,
            $"at {round.At.TotalSeconds:F2} s buckets {string.Join(",", dark.Take(8))}{(dark.Count > 8 ? $" (+{dark.Count - 8})" : "")} had none ({nodes})");
    }
}
