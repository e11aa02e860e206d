namespace Farm.Core.Config;

/// <summary>What a side of a partitioned cluster does (cluster file <c>split_brain.policy</c>).</summary>
public enum SplitBrainPolicy
{
    /// <summary><c>none</c>: every side takes all buckets (SafeKit's default; clients may be served twice during a partition).</summary>
    None,

    /// <summary><c>majority</c>: only a side holding more than half of the configured nodes takes new buckets.</summary>
    Majority,

    /// <summary><c>witness</c>: only a side that reaches the witness address takes new buckets.</summary>
    Witness,
}
