namespace Farm.Core.Ownership;

/// <summary>
/// The buckets whose conntrack entries a node deletes around one change of its bucket states (see
/// <see cref="StaleEntryPolicy"/>), ascending.
/// </summary>
/// <param name="BeforeApply">Claimed after a break in their service: delete before the kernel lets their tracked packets in.</param>
/// <param name="AfterApply">No longer served here: delete once the kernel drops their packets.</param>
public sealed record StaleBuckets(IReadOnlyList<int> BeforeApply, IReadOnlyList<int> AfterApply)
{
    /// <summary>True when nothing is to be deleted.</summary>
    public bool IsEmpty => BeforeApply.Count == 0 && AfterApply.Count == 0;
}
