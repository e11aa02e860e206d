namespace Farm.Core.Ownership;

/// <summary>
/// Which of one module's buckets a node must delete its conntrack entries of, and when. Pure; one per module and data
/// plane run. farmd's data plane and the simulation's flow model both follow it, so what the simulation checks is what
/// the node does. See docs/architecture.md ("Stale conntrack entries").
/// </summary>
/// <remarks>
/// The kernel drops a bucket's packets before conntrack while the node does not serve it, so nothing refreshes or
/// deletes its entries of the flows it answered, and <c>ct state established accept</c> lets them in again the moment
/// the bucket comes back. An entry may be kept only while nobody else can have answered its flow since the node did.
/// So the node deletes
/// <list type="bullet">
/// <item>every entry of the module when its data plane starts (before this object is made: it starts with nothing
/// tracked);</item>
/// <item>a bucket's entries when the bucket becomes none here (<see cref="StaleBuckets.AfterApply"/>: once the kernel
/// drops its packets, no entry comes back);</item>
/// <item>the entries of every bucket it serves (owned, incoming, claimed, draining) when it claims buckets after it was
/// out of the view (<see cref="OwnershipSnapshot.RejoinClaims"/> grew: others served its flows meanwhile, e.g. after its
/// lease ran out and it was removed, or on the other side of a partition under policy none), before the kernel lets
/// tracked packets in (<see cref="StaleBuckets.BeforeApply"/>).</item>
/// </list>
/// Buckets it drained or owned up to a claim while it stayed in the view keep theirs, missed views or a lease lapse
/// notwithstanding: nobody else served those flows (a node's buckets go to others only in views it promised, which
/// hand them over, or in views without it, after which it rejoins). A rejoin is seen through a counter, not through the
/// claimed state: a claim may end within the call that made it (every peer already reported as of its view), so a
/// bucket can go from draining or owned to owned or incoming with no claimed state ever published.
/// </remarks>
public sealed class StaleEntryPolicy
{
    private readonly BucketState[] previous;
    private long rejoinClaims;

    /// <summary>
    /// The module's data plane (with <paramref name="bucketCount"/> buckets) starts; the caller deletes every entry of
    /// the module now. Every bucket is none until the first <see cref="Next"/>.
    /// </summary>
    public StaleEntryPolicy(int bucketCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bucketCount);
        previous = new BucketState[bucketCount];
    }

    /// <summary>The module's bucket count.</summary>
    public int BucketCount => previous.Length;

    /// <summary>
    /// True when <paramref name="snapshot"/> claims after a rejoin that the last <see cref="Next"/> did not see: its
    /// <see cref="OwnershipSnapshot.RejoinClaims"/> is higher. Only higher: a snapshot older than the last one (delivered
    /// late; the kernel never takes it) is no rejoin. Changes nothing.
    /// </summary>
    public bool Rejoins(OwnershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.RejoinClaims > rejoinClaims;
    }

    /// <summary>
    /// The kernel is about to take <paramref name="states"/> (what it really gets: all none while the module does not
    /// accept) of <paramref name="snapshot"/>: the buckets whose entries to delete before and after it does.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="states"/> has another bucket count (start a new policy: the module changed).</exception>
    public StaleBuckets Next(ReadOnlySpan<BucketState> states, OwnershipSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (states.Length != previous.Length)
        {
            throw new ArgumentException($"{states.Length} bucket states for a module of {previous.Length} buckets.", nameof(states));
        }

        bool rejoined = Rejoins(snapshot);
        rejoinClaims = Math.Max(rejoinClaims, snapshot.RejoinClaims);
        List<int>? before = null;
        List<int>? after = null;
        for (int b = 0; b < states.Length; b++)
        {
            if (states[b] == BucketState.None)
            {
                if (previous[b] != BucketState.None)
                {
                    (after ??= []).Add(b); // none creates no entry: once deleted, the bucket stays clean
                }
            }
            else if (rejoined)
            {
                (before ??= []).Add(b);
            }

            previous[b] = states[b];
        }

        return new StaleBuckets(before ?? [], after ?? []);
    }
}
