namespace Farm.Core.Buckets;

/// <summary>One member of a view as the bucket transition sees it: identity, weight and priority.</summary>
public sealed record BucketMember
{
    /// <summary>The largest weight a member may have.</summary>
    public const int MaxWeight = 1000;

    /// <summary>Creates a member.</summary>
    /// <param name="name">The node name; compared ordinally, so it must be spelt alike on every node.</param>
    /// <param name="weight">0..<see cref="MaxWeight"/>; 0 keeps the member in the view but gives it no bucket.</param>
    /// <param name="priority">Used in <see cref="BucketMode.Single"/>: the highest priority owns everything.</param>
    public BucketMember(string name, int weight = 1, int priority = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, MaxWeight);
        Name = name;
        Weight = weight;
        Priority = priority;
    }

    /// <summary>The node name, the member's identity (ordinal comparison).</summary>
    public string Name { get; }

    /// <summary>Relative share of the buckets, 0..<see cref="MaxWeight"/>.</summary>
    public int Weight { get; }

    /// <summary>Higher wins the sole ownership in <see cref="BucketMode.Single"/>.</summary>
    public int Priority { get; }
}
