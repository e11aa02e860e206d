namespace Farm.DataPlane.Filtering;

/// <summary>
/// What this node does with each bucket of one module, as the membership layer decided for one epoch. Buckets in
/// none of the three sets belong to other nodes. Immutable.
/// </summary>
public sealed class BucketAssignment
{
    /// <summary>Creates an assignment; the three sets must be disjoint and hold no negative bucket.</summary>
    /// <exception cref="ArgumentException">A bucket is negative or in more than one set.</exception>
    public BucketAssignment(long epoch, IEnumerable<int> owned, IEnumerable<int> incoming, IEnumerable<int> draining)
    {
        Epoch = epoch;
        Owned = Normalize(owned, nameof(owned));
        Incoming = Normalize(incoming, nameof(incoming));
        Draining = Normalize(draining, nameof(draining));
        var seen = new HashSet<int>(Owned);
        foreach (int bucket in Incoming.Concat(Draining))
        {
            if (!seen.Add(bucket))
            {
                throw new ArgumentException($"Bucket {bucket} is in more than one of owned, incoming and draining.", nameof(owned));
            }
        }
    }

    /// <summary>The view epoch the assignment belongs to (for logs and status).</summary>
    public long Epoch { get; }

    /// <summary>Buckets this node serves: every packet is accepted. Sorted ascending.</summary>
    public IReadOnlyList<int> Owned { get; }

    /// <summary>Buckets moving to this node while the previous owner drains: new flows and flows this node tracks. Sorted ascending.</summary>
    public IReadOnlyList<int> Incoming { get; }

    /// <summary>Buckets moving away: only packets of connections this node already tracks. Sorted ascending.</summary>
    public IReadOnlyList<int> Draining { get; }

    /// <summary>An assignment that accepts nothing.</summary>
    public static BucketAssignment Empty(long epoch) => new(epoch, [], [], []);

    /// <summary>The highest bucket in any set, or -1.</summary>
    public int MaxBucket => Math.Max(Owned.LastOrDefault(-1), Math.Max(Incoming.LastOrDefault(-1), Draining.LastOrDefault(-1)));

    /// <inheritdoc />
    public override string ToString() =>
        $"epoch {Epoch}: {Owned.Count} owned, {Incoming.Count} incoming, {Draining.Count} draining";

    private static int[] Normalize(IEnumerable<int> buckets, string name)
    {
        ArgumentNullException.ThrowIfNull(buckets, name);
        int[] sorted = [.. buckets.Distinct().Order()];
        if (sorted.Length > 0 && sorted[0] < 0)
        {
            throw new ArgumentException($"Bucket {sorted[0]} is negative.", name);
        }

        return sorted;
    }
}
