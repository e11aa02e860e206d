namespace Farm.Bench.Chaos;

/// <summary>
/// Watches every kernel round of the soak: two kernels accepting one bucket at once (<see cref="AcceptorOverlapChecker"/>,
/// leases taken into account) and, per round, how many buckets no kernel accepted; after the run it says when the
/// kernels covered every bucket again after a moment <c>E</c>.
/// </summary>
internal sealed class InvariantMonitor(int buckets)
{
    private readonly AcceptorOverlapChecker overlaps = new(buckets);
    private readonly List<(TimeSpan At, int Uncovered)> coverage = [];
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
            coverage.Add((round.At, round.Uncovered(Enumerable.Range(0, round.Reads.Count), buckets)));
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

    /// <summary>The end of the first round at or after <paramref name="from"/> in which every bucket had a leased acceptor, or null.</summary>
    public TimeSpan? CoveredFrom(TimeSpan from)
    {
        lock (gate)
        {
            foreach (var (at, uncovered) in coverage)
            {
                if (at >= from && uncovered == 0)
                {
                    return at;
                }
            }
        }

        return null;
    }
}
