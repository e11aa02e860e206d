namespace Farm.Core.Buckets;

/// <summary>One bucket whose owner differs between two tables; a null owner means unowned.</summary>
/// <param name="Bucket">The bucket number.</param>
/// <param name="From">The owner in the older table, or null.</param>
/// <param name="To">The owner in the newer table, or null.</param>
public readonly record struct BucketMove(int Bucket, string? From, string? To);
