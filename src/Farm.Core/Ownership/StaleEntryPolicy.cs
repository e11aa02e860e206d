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
/// <item>the entries of every bucket it serves as owned, incoming or claimed when it claims buckets after a lease lapse
/// (those the lapse marked and nothing deleted since), or with a view of a history it took no part in (every such
/// bucket: the other side of a partition served them under policy none) (<see cref="StaleBuckets.BeforeApply"/>:
/// before the kernel lets tracked packets in). Buckets it drained or owned without a lapse up to a claim in its own
/// lineage keep theirs: nobody else served those flows.</item>
/// </list>
/// A lapse alone deletes nothing: while the node's installed table still gives it a bucket and its lease resumes, no
/// other node served it (a node's buckets go to others only in views it promised, or once its lease ran out, and then
/// it installs the view that gives them back after missed views: a claim). Claims are seen through
/// <see cref="OwnershipSnapshot.Claims"/> growing, not through the claimed state: a claim may end within the call that
/// made it (every peer already reported as of its view), so a bucket can go from draining or owned to owned or
/// incoming with no claimed state in between. When a claim follows a lapse, every served bucket the lapse marked is
/// cleaned, claimed in that call or not: one more than needed at worst (an owned bucket loses nothing, the kernel
/// tracks its flows again from their next packet).
/// </remarks>
public sealed class StaleEntryPolicy
{
    private readonly BucketState[] previous;
    private readonly bool[] broken;
    private long claims;
    private long foreignClaims;

    /// <summary>
    /// The module's data plane (with <paramref name="bucketCount"/> buckets) starts; the caller deletes every entry of
    /// the module now. Every bucket is none until the first <see cref="Next"/>.
    /// </summary>
    public StaleEntryPolicy(int bucketCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bucketCount);
        previous = new BucketState[bucketCount];
        broken = new bool[bucketCount];
    }

    /// <summary>The module's bucket count.</summary>
    public int BucketCount => previous.Length;

    /// <summary>
    /// The kernel lease ran out (it may have been extended again since): no bucket was served for a while, and others
    /// may take them meanwhile.
    /// </summary>
    public void LeaseLapsed() => Array.Fill(broken, true);

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

        bool claimed = snapshot.Claims != claims;
        bool foreign = snapshot.ForeignClaims != foreignClaims;
        claims = snapshot.Claims;
        foreignClaims = snapshot.ForeignClaims;
        List<int>? before = null;
        List<int>? after = null;
        for (int b = 0; b < states.Length; b++)
        {
            var state = states[b];
            if (state == BucketState.None)
            {
                if (previous[b] != BucketState.None || broken[b])
                {
                    (after ??= []).Add(b);
                }

                broken[b] = false; // deleted once the kernel drops its packets; none creates no entry
            }
            else if (foreign || (broken[b] && (claimed || state == BucketState.Claimed)))
            {
                (before ??= []).Add(b);
                broken[b] = false;
            }

            previous[b] = state;
        }

        return new StaleBuckets(before ?? [], after ?? []);
    }
}
