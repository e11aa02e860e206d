using Farm.Core.Buckets;

namespace Farm.Benchmarks;

/// <summary>Member lists and tables shared by the benchmarks.</summary>
internal static class BenchmarkTables
{
    /// <summary><paramref name="count"/> members named node00, node01, ... with equal weights.</summary>
    public static BucketMember[] Members(int count) =>
        Enumerable.Range(0, count).Select(i => new BucketMember($"node{i:D2}", weight: 1)).ToArray();

    /// <summary>The balanced table of <paramref name="members"/> computed from scratch at epoch 1.</summary>
    public static BucketTable Balanced(int bucketCount, IReadOnlyCollection<BucketMember> members) =>
        BucketTransition.Next(BucketTable.Empty(bucketCount), members, 1, BucketMode.Balance);
}
