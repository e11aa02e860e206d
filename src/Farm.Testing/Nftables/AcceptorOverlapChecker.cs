namespace Farm.Testing.Nftables;

/// <summary>
/// Finds, in consecutive <see cref="KernelRound"/>s, buckets whose new flows two kernels accepted at once (both with a
/// live lease). Nodes are read one after the other, never at one instant, so a read only proves acceptance at its own
/// time; acceptance seen at two consecutive reads of a node is taken to hold in between when they are at most
/// <c>maxSpan</c> apart (sets and leases do not flap within a few periods; over a longer gap of a late sampler they may,
/// so such reads count as two instants). An overlap is <b>definite</b> when one node's acceptance (a read, or the span between two reads)
/// covers a read of the other; <b>possible</b> when both accepted in one round but a hand-over between their reads (a
/// millisecond apart) could explain it. Every overlap is reported once per episode (until the pair stops overlapping).
/// </summary>
public sealed class AcceptorOverlapChecker(int buckets, TimeSpan? maxSpan = null)
{
    /// <summary>Default of the longest gap between two reads that still counts as one span of acceptance: 50 ms.</summary>
    public static readonly TimeSpan DefaultMaxSpan = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Possible overlaps kept with their description; later ones are only counted (<see cref="PossibleCount"/>). With a
    /// sampler slower than the span limit every round's shared buckets are possible overlaps: hundreds per round.
    /// </summary>
    public const int MaxKeptPossible = 1000;

    private readonly TimeSpan spanLimit = maxSpan ?? DefaultMaxSpan;
    private readonly List<AcceptorOverlap> overlaps = [];
    private readonly HashSet<(int Bucket, int First, int Second)> active = [];
    private readonly HashSet<(int Bucket, int First, int Second)> definiteLastWindow = [];
    private KernelRound? previous;
    private KernelRound? beforePrevious;

    /// <summary>Every definite overlap found so far and the first <see cref="MaxKeptPossible"/> possible ones, in the order found.</summary>
    public IReadOnlyList<AcceptorOverlap> Overlaps => overlaps;

    /// <summary>Possible overlaps found so far, kept or not.</summary>
    public long PossibleCount { get; private set; }

    /// <summary>Takes the next round (rounds must come in order, with the same nodes).</summary>
    public void Add(KernelRound round)
    {
        ArgumentNullException.ThrowIfNull(round);
        if (previous is null)
        {
            previous = round;
            return;
        }

        var definite = new HashSet<(int Bucket, int First, int Second)>();
        int nodes = round.Reads.Count;
        for (int b = 0; b < buckets; b++)
        {
            for (int i = 0; i < nodes; i++)
            {
                if (!Spans(previous.Reads[i], round.Reads[i], b, out var si))
                {
                    continue;
                }

                for (int j = i + 1; j < nodes; j++)
                {
                    if (Spans(previous.Reads[j], round.Reads[j], b, out var sj) && si.Start <= sj.End && sj.Start <= si.End)
                    {
                        definite.Add((b, i, j));
                        if (active.Add((b, i, j)))
                        {
                            var at = si.Start > sj.Start ? si.Start : sj.Start;
                            overlaps.Add(new AcceptorOverlap(at, b, i, j, Definite: true, Describe(b, i, j, previous, round)));
                        }
                    }
                }
            }
        }

        active.IntersectWith(definite);

        // Same-round coincidences in the previous round that neither window around it proved.
        if (beforePrevious is not null)
        {
            for (int b = 0; b < buckets; b++)
            {
                for (int i = 0; i < nodes; i++)
                {
                    for (int j = i + 1; j < nodes; j++)
                    {
                        if (previous.Reads[i].Accepts(b) && previous.Reads[j].Accepts(b)
                            && !definite.Contains((b, i, j)) && !definiteLastWindow.Contains((b, i, j))
                            && ++PossibleCount <= MaxKeptPossible)
                        {
                            overlaps.Add(new AcceptorOverlap(previous.Reads[j].At, b, i, j, Definite: false, Describe(b, i, j, beforePrevious, previous)));
                        }
                    }
                }
            }
        }

        definiteLastWindow.Clear();
        definiteLastWindow.UnionWith(definite);
        beforePrevious = previous;
        previous = round;
    }

    /// <summary>
    /// When node's kernel is known to have accepted <paramref name="bucket"/> between two consecutive reads: the span
    /// between them when both accepted, the one read's instant when only one did.
    /// </summary>
    private bool Spans(KernelRead earlier, KernelRead later, int bucket, out (TimeSpan Start, TimeSpan End) span)
    {
        bool first = earlier.Accepts(bucket);
        bool second = later.Accepts(bucket);
        span = (first, second) switch
        {
            (true, true) when later.At - earlier.At <= spanLimit => (earlier.At, later.At),
            (true, true) => (later.At, later.At),
            (true, false) => (earlier.At, earlier.At),
            (false, true) => (later.At, later.At),
            _ => default,
        };
        return first || second;
    }

    private static string Describe(int bucket, int i, int j, KernelRound earlier, KernelRound later) => string.Create(
        CultureInfo.InvariantCulture,
        $"bucket {bucket}: node{i} {State(earlier.Reads[i], bucket)} then {State(later.Reads[i], bucket)}, node{j} {State(earlier.Reads[j], bucket)} then {State(later.Reads[j], bucket)} (rounds {earlier.Number}-{later.Number})");

    private static string State(KernelRead read, int bucket) => string.Create(
        CultureInfo.InvariantCulture,
        $"{(read.Accepting.Contains(bucket) ? "accepting" : "not accepting")} {(read.Leased ? $"lease to {read.LeaseUntil!.Value.TotalMilliseconds:F0}" : "no lease")} @{read.At.TotalMilliseconds:F0} ms");
}
