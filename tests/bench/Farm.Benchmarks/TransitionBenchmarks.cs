using BenchmarkDotNet.Attributes;
using Farm.Core.Buckets;

namespace Farm.Benchmarks;

/// <summary>Cost of computing the next bucket table (and its move list) for 64 equal-weight nodes when one leaves or joins.</summary>
[MemoryDiagnoser]
public class TransitionBenchmarks
{
    private BucketMember[] all = [];
    private BucketMember[] withoutOne = [];
    private BucketTable full = BucketTable.Empty();
    private BucketTable missingOne = BucketTable.Empty();
    private BucketTable afterLeave = BucketTable.Empty();

    [Params(4096, 65536)]
    public int Buckets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        all = BenchmarkTables.Members(64);
        withoutOne = all.Where(m => m.Name != "node17").ToArray();
        full = BenchmarkTables.Balanced(Buckets, all);
        missingOne = BenchmarkTables.Balanced(Buckets, withoutOne);
        afterLeave = Next_OneOf64Leaves();
    }

    [Benchmark]
    public BucketTable Next_OneOf64Leaves() => BucketTransition.Next(full, withoutOne, 2, BucketMode.Balance);

    [Benchmark]
    public BucketTable Next_64thJoins() => BucketTransition.Next(missingOne, all, 2, BucketMode.Balance);

    [Benchmark]
    public int Diff_OneOf64Leaves() => full.Diff(afterLeave).Length;
}
