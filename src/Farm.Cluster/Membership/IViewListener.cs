using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>What the <see cref="ViewAcceptor"/> tells when this node's views change (the manager updates the hand-overs and the ownership).</summary>
internal interface IViewListener
{
    /// <summary>
    /// This node promised <paramref name="promised"/>, derived from view <paramref name="baseId"/> (whose tables are
    /// <paramref name="baseTables"/>), while <paramref name="installed"/> was installed.
    /// </summary>
    void Promised(ClusterView? installed, ClusterView promised, ViewId? baseId, IReadOnlyDictionary<string, BucketTable>? baseTables, TimeSpan now);

    /// <summary>
    /// This node installed <paramref name="view"/> after <paramref name="previous"/>. <paramref name="continuous"/>: the view
    /// derives from <paramref name="previous"/>. <paramref name="fromScratch"/>: the farm's first view (no base).
    /// </summary>
    void Installed(ClusterView? previous, ClusterView view, bool continuous, bool fromScratch, TimeSpan now);
}
