using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>The parts of a module's configuration that shape its bucket table (identical on every node).</summary>
public sealed record ModuleSpec(string Name, int BucketCount, BucketMode Mode, bool Failback)
{
    /// <summary>
    /// How long a hand-over may last: a bucket drains at most this long on its previous owner (then it is dropped there),
    /// and the new owner waits at most this long plus a detection timeout for the previous owner's report. Default 30 s.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
