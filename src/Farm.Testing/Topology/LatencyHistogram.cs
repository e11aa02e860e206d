namespace Farm.Testing.Topology;

/// <summary>
/// Latencies filed by the time they happened, in slices of a fixed length, so percentiles can be read for any window
/// (say, the seconds of a rebalance) as well as for the whole run. Thread-safe; recording allocates nothing except the
/// first time a slice is used.
/// </summary>
/// <remarks>
/// Values are kept in microseconds in logarithmic buckets, 16 per power of two, exact below 32 µs. A percentile is the
/// upper end of its bucket, capped by the window's exact maximum: never below the true value and at most 6.25 % above
/// it. Latencies beyond 2^31 µs (about 36 minutes) share the last bucket.
/// </remarks>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 4;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int Exact = 2 * SubBuckets;
    private const int ValueBits = 31;
    private const int BucketCount = Exact + ((ValueBits - 1 - SubBucketBits) * SubBuckets);

    // A slice is the counts of every bucket followed by the slice's largest value (µs).
    private const int MaxIndex = BucketCount;
    private const int MaxSlices = 1 << 22;

    private readonly Lock growth = new();
    private int[]?[] slices = new int[]?[64];

    /// <summary>A histogram whose windows are resolved to <paramref name="sliceLength"/>.</summary>
    public LatencyHistogram(TimeSpan sliceLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sliceLength, TimeSpan.Zero);
        SliceLength = sliceLength;
    }

    /// <summary>The time resolution of windows: a window takes in every slice it overlaps.</summary>
    public TimeSpan SliceLength { get; }

    /// <summary>Files <paramref name="latency"/> under the time <paramref name="at"/> (any time origin; negative times count as 0).</summary>
    public void Record(TimeSpan at, TimeSpan latency)
    {
        long micros = Math.Clamp(latency.Ticks / TimeSpan.TicksPerMicrosecond, 0, int.MaxValue);
        int[] slice = Slice(Math.Clamp(at.Ticks / SliceLength.Ticks, 0, MaxSlices - 1));
        Interlocked.Increment(ref slice[BucketOf(micros)]);
        int seen = Volatile.Read(ref slice[MaxIndex]);
        while (micros > seen)
        {
            int previous = Interlocked.CompareExchange(ref slice[MaxIndex], (int)micros, seen);
            if (previous == seen)
            {
                break;
            }

            seen = previous;
        }
    }

    /// <summary>Percentiles of everything recorded so far.</summary>
    public LatencySummary Summarize() => Summarize(TimeSpan.Zero, TimeSpan.MaxValue);

    /// <summary>Percentiles of the latencies filed in [<paramref name="from"/>, <paramref name="to"/>), widened to whole slices.</summary>
    public LatencySummary Summarize(TimeSpan from, TimeSpan to)
    {
        var all = Volatile.Read(ref slices);
        long first = Math.Max(0, from.Ticks / SliceLength.Ticks);
        long last = Math.Min(all.Length - 1, CeilingSlices(to) - 1);
        var counts = new long[BucketCount];
        long total = 0;
        int max = 0;
        for (long s = first; s <= last; s++)
        {
            if (Volatile.Read(ref all[s]) is not { } slice)
            {
                continue;
            }

            for (int b = 0; b < BucketCount; b++)
            {
                int n = Volatile.Read(ref slice[b]);
                counts[b] += n;
                total += n;
            }

            max = Math.Max(max, Volatile.Read(ref slice[MaxIndex]));
        }

        if (total == 0)
        {
            return LatencySummary.Empty;
        }

        return new LatencySummary(
            total,
            Percentile(counts, total, 0.5, max),
            Percentile(counts, total, 0.9, max),
            Percentile(counts, total, 0.99, max),
            Percentile(counts, total, 0.999, max),
            FromMicros(max));
    }

    private static int BucketOf(long micros)
    {
        if (micros < Exact)
        {
            return (int)micros;
        }

        int shift = System.Numerics.BitOperations.Log2((ulong)micros) - SubBucketBits;
        return Exact + ((shift - 1) * SubBuckets) + (int)((micros >> shift) - SubBuckets);
    }

    private static long UpperEnd(int bucket)
    {
        if (bucket < Exact)
        {
            return bucket;
        }

        int shift = ((bucket - Exact) / SubBuckets) + 1;
        long mantissa = ((bucket - Exact) % SubBuckets) + SubBuckets;
        return ((mantissa + 1) << shift) - 1;
    }

    // Nearest rank: the smallest value with at least q of all values at or below it.
    private static TimeSpan Percentile(long[] counts, long total, double q, int max)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (int b = 0; b < counts.Length; b++)
        {
            seen += counts[b];
            if (seen >= rank)
            {
                return FromMicros(Math.Min(UpperEnd(b), max));
            }
        }

        return FromMicros(max);
    }

    private static TimeSpan FromMicros(long micros) => TimeSpan.FromTicks(micros * TimeSpan.TicksPerMicrosecond);

    private long CeilingSlices(TimeSpan to) =>
        to == TimeSpan.MaxValue ? long.MaxValue : (to.Ticks + SliceLength.Ticks - 1) / SliceLength.Ticks;

    private int[] Slice(long index)
    {
        var all = Volatile.Read(ref slices);
        if (index < all.Length && Volatile.Read(ref all[index]) is { } existing)
        {
            return existing;
        }

        lock (growth)
        {
            all = slices;
            if (index >= all.Length)
            {
                var larger = new int[]?[Math.Min(MaxSlices, Math.Max(index + 1, all.Length * 2L))];
                Array.Copy(all, larger, all.Length);
                Volatile.Write(ref slices, larger);
                all = larger;
            }

            if (all[index] is not { } slice)
            {
                slice = new int[BucketCount + 1];
                Volatile.Write(ref all[index], slice);
            }

            return slice;
        }
    }
}
