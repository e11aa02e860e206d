using System.Net;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// What this node does with each bucket of one module, as the membership layer decided for one epoch. Buckets in
/// none of the three sets belong to other nodes. Immutable.
/// </summary>
public sealed class BucketAssignment
{
    /// <summary>Creates an assignment without claimed buckets; the three sets must be disjoint and hold no negative bucket.</summary>
    /// <exception cref="ArgumentException">A bucket is negative or in more than one set.</exception>
    public BucketAssignment(long epoch, IEnumerable<int> owned, IEnumerable<int> incoming, IEnumerable<int> draining)
        : this(epoch, owned, incoming, draining, [], [])
    {
    }

    /// <summary>Creates an assignment; the four sets must be disjoint and hold no negative bucket.</summary>
    /// <param name="epoch">The view epoch.</param>
    /// <param name="owned">Buckets served whole.</param>
    /// <param name="incoming">Buckets taken over while a peer drains them.</param>
    /// <param name="draining">Buckets handed over: only tracked flows.</param>
    /// <param name="claimed">Buckets taken over before every peer said whether it drains them: new TCP connections and tracked flows only.</param>
    /// <param name="foreignFlows">UDP flows (source address and port) peers still serve: never accepted as new flows in incoming buckets.</param>
    /// <exception cref="ArgumentException">A bucket is negative or in more than one set.</exception>
    public BucketAssignment(
        long epoch, IEnumerable<int> owned, IEnumerable<int> incoming, IEnumerable<int> draining, IEnumerable<int> claimed, IEnumerable<IPEndPoint> foreignFlows)
    {
        ArgumentNullException.ThrowIfNull(foreignFlows);
        Epoch = epoch;
        Owned = Normalize(owned, nameof(owned));
        Incoming = Normalize(incoming, nameof(incoming));
        Draining = Normalize(draining, nameof(draining));
        Claimed = Normalize(claimed, nameof(claimed));
        ForeignFlows = [.. foreignFlows.Distinct()];
        var seen = new HashSet<int>(Owned);
        foreach (int bucket in Incoming.Concat(Draining).Concat(Claimed))
        {
            if (!seen.Add(bucket))
            {
                throw new ArgumentException($"Bucket {bucket} is in more than one of owned, incoming, draining and claimed.", nameof(owned));
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

    /// <summary>Buckets just taken over, before every peer said whether it drains them: new TCP connections and tracked flows. Sorted ascending.</summary>
    public IReadOnlyList<int> Claimed { get; }

    /// <summary>UDP flows (client address and port) that peers still serve in buckets they drain: not new flows here.</summary>
    public IReadOnlyList<IPEndPoint> ForeignFlows { get; }

    /// <summary>An assignment that accepts nothing.</summary>
    public static BucketAssignment Empty(long epoch) => new(epoch, [], [], []);

    /// <summary>The highest bucket in any set, or -1.</summary>
    public int MaxBucket => Math.Max(Math.Max(Owned.LastOrDefault(-1), Claimed.LastOrDefault(-1)), Math.Max(Incoming.LastOrDefault(-1), Draining.LastOrDefault(-1)));

    /// <inheritdoc />
    public override string ToString() =>
        $"epoch {Epoch}: {Owned.Count} owned, {Incoming.Count} incoming, {Claimed.Count} claimed, {Draining.Count} draining, {ForeignFlows.Count} foreign flows";

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
