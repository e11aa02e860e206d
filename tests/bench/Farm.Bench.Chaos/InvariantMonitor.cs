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
    private readonly List<(TimeSpan From, TimeSpan At, int Uncovered, string? Example)> coverage = [];
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
            coverage.Add((round.From, round.At, uncovered, uncovered == 0 ? null : "at " + round.At.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s " + round.Describe(buckets, TimeSpan.Zero)));
            if (previous is { } p && round.At - p > longestRound)
            {
                longestRound = round.At - p;
            }

            previous = round.At;
        }

        Interlocked.Increment(ref rounds);
    }

    /// <summary>Possible overlaps found, including those not kept (see <see cref="AcceptorOverlapChecker.MaxKeptPossible"/>).</summary>
    public long PossibleOverlapCount
    {
        get
        {
            lock (gate)
            {
                return overlaps.PossibleCount;
            }
        }
    }

    public IReadOnlyList<AcceptorOverlap> Overlaps()
    {
        lock (gate)
        {
            return [.. overlaps.Overlaps];
        }
    }

    /// <summary>
    /// When the kernels covered every bucket again after a moment <paramref name="from"/>: the end of the first round
    /// that ended after it in which every bucket had a leased acceptor (<c>Covered</c>, null: none), and the start of
    /// the last round before that one which left a bucket without one (<c>LastMiss</c>, null: none did). The cover
    /// happened between the two: a read returns some time after its listing, late when the sampler was descheduled.
    /// <c>LastGap</c> describes that round (which buckets, each node's read times, lease and count of accepted buckets).
    /// </summary>
    public (TimeSpan? Covered, TimeSpan? LastMiss, string? LastGap) CoverageFrom(TimeSpan from)
    {
        TimeSpan? lastMiss = null;
        string? last = null;
        lock (gate)
        {
            foreach (var (start, at, uncovered, example) in coverage)
            {
                if (at < from)
                {
                    continue;
                }

                if (uncovered == 0)
                {
                    return (at, lastMiss, last);
                }

                lastMiss = start;
                last = example;
            }
        }

        return (null, lastMiss, last);
    }
}
