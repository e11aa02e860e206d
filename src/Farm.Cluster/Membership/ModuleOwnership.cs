using System.Collections.Immutable;

namespace Farm.Cluster.Membership;

/// <summary>One module's bucket states on this node.</summary>
public sealed class ModuleOwnership
{
    private readonly BucketState[] states;

    internal ModuleOwnership(string module, BucketState[] states)
    {
        Module = module;
        this.states = states;
        Owned = states.Count(s => s == BucketState.Owned);
        Incoming = states.Count(s => s == BucketState.Incoming);
        Draining = states.Count(s => s == BucketState.Draining);
    }

    /// <summary>Module name.</summary>
    public string Module { get; }

    /// <summary>State per bucket.</summary>
    public ReadOnlySpan<BucketState> States => states;

    /// <summary>Number of owned buckets.</summary>
    public int Owned { get; }

    /// <summary>Number of incoming buckets.</summary>
    public int Incoming { get; }

    /// <summary>Number of draining buckets.</summary>
    public int Draining { get; }

    /// <summary>State of one bucket.</summary>
    public BucketState this[int bucket] => states[bucket];

    /// <summary>Buckets in a given state, ascending.</summary>
    public ImmutableArray<int> BucketsIn(BucketState state)
    {
        var result = ImmutableArray.CreateBuilder<int>();
        for (int b = 0; b < states.Length; b++)
        {
            if (states[b] == state)
            {
                result.Add(b);
            }
        }

        return result.ToImmutable();
    }
}
