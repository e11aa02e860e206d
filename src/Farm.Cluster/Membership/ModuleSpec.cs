using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>The parts of a module's configuration that shape its bucket table (identical on every node).</summary>
public sealed record ModuleSpec(string Name, int BucketCount, BucketMode Mode, bool Failback);
