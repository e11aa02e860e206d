using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>
/// Counts the times this run claims buckets after it was out of the view (<see cref="OwnershipSnapshot.RejoinClaims"/>):
/// others may have served its flows meanwhile, so its data plane deletes the conntrack entries it still holds of them
/// (<see cref="StaleEntryPolicy"/>; docs/architecture.md, "Stale conntrack entries").
/// </summary>
internal sealed class RejoinCounter
{
    private ViewId? lastPromised;
    private bool lastPromisedRejoins;

    /// <summary>Rejoins so far.</summary>
    public long Count { get; private set; }

    /// <summary>
    /// This node (<paramref name="node"/>) promised <paramref name="promised"/>, derived from a view whose tables are
    /// <paramref name="baseTables"/>.
    /// A rejoin when that base does not list this node and the promise claims its buckets (<paramref name="claims"/>: its
    /// installed view is not the base): it was out, and others served its buckets (its lease ran out and it was removed,
    /// or the other side of a partition under policy none went on without it).
    /// </summary>
    public void OnPromised(string node, ViewId promised, IReadOnlyDictionary<string, BucketTable>? baseTables, bool claims)
    {
        lastPromised = promised;
        lastPromisedRejoins = baseTables is { Count: > 0 } && baseTables.Values.All(t => !t.Members.Contains(node));
        Count += claims && lastPromisedRejoins ? 1 : 0;
    }

    /// <summary>
    /// This node installed <paramref name="view"/>. After missed views (not <paramref name="continuous"/>) it claims every
    /// bucket it gets: a rejoin when the view derives from one without this node (it may have served on alone, or on its
    /// side of a partition, until this install), or when it never promised the view (it cannot tell, so it assumes so).
    /// </summary>
    public void OnInstalled(ViewId view, bool continuous, bool fromScratch) =>
        Count += !continuous && !fromScratch && (view != lastPromised || lastPromisedRejoins) ? 1 : 0;
}
