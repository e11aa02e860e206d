using System.Collections.Immutable;

namespace Farm.Core.Ownership;

/// <summary>One module's bucket states on this node.</summary>
public sealed class ModuleOwnership
{
    private readonly BucketState[] states;

    public ModuleOwnership(string module, BucketState[] states, ImmutableArray<FlowKey> foreignFlows)
    {
        Module = module;
        this.states = states;
        ForeignFlows = foreignFlows;
        foreach (var s in states)
        {
            switch (s)
            {
                case BucketState.Owned: Owned++; break;
                case BucketState.Incoming: Incoming++; break;
                case BucketState.Claimed: Claimed++; Incoming++; break;
                case BucketState.Draining: Draining++; break;
            }
        }
    }

    /// <summary>Module name.</summary>
    public string Module { get; }

    /// <summary>State per bucket.</summary>
    public ReadOnlySpan<BucketState> States => states;

    /// <summary>Number of owned buckets.</summary>
    public int Owned { get; }

    /// <summary>Number of buckets being taken over: incoming and claimed.</summary>
    public int Incoming { get; }

    /// <summary>Number of claimed buckets (also counted in <see cref="Incoming"/>).</summary>
    public int Claimed { get; }

    /// <summary>
    /// The data plane's encodings (one per peer) of the UDP flows that peers still serve in buckets they drain: this
    /// node must not answer them as new flows in its incoming buckets. Empty when no peer reported any.
    /// </summary>
    public ImmutableArray<FlowKey> ForeignFlows { get; }

    /// <summary>Number of draining buckets.</summary>
    public int Draining { get; }

    /// <summary>True when both hold the same states and the same foreign flows.</summary>
    public bool SameAs(ModuleOwnership other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return States.SequenceEqual(other.States) && ForeignFlows.SequenceEqual(other.ForeignFlows);
    }

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
