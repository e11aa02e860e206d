using System.Net;
using Farm.Core.Buckets;

namespace Farm.Core.Config;

/// <summary>One cluster member (an item of <c>cluster.nodes</c>).</summary>
public sealed record NodeConfig
{
    /// <summary>Default of <see cref="Weight"/>.</summary>
    public const int DefaultWeight = 100;

    /// <summary>Largest accepted <see cref="Weight"/>.</summary>
    public const int MaxWeight = BucketMember.MaxWeight;

    /// <summary>Largest accepted <see cref="Priority"/>.</summary>
    public const int MaxPriority = 1000;

    /// <summary><c>name</c>: unique node name, lower-case letters, digits and '-', at most 63 characters. Required.</summary>
    public required string Name { get; init; }

    /// <summary><c>addresses</c>: one unicast IPv4 or IPv6 address per heartbeat LAN, in the order of <see cref="ClusterConfig.Lans"/>. Required.</summary>
    public required IReadOnlyList<IPAddress> Addresses { get; init; }

    /// <summary><c>weight</c>: share of the buckets relative to the other nodes; 0 takes none (a standby). Default 100; 0 to 1000.</summary>
    public int Weight { get; init; } = DefaultWeight;

    /// <summary><c>priority</c>: in <c>single</c> mode the UP node with the highest priority is active (ties go to the lowest name). Default 0; 0 to 1000.</summary>
    public int Priority { get; init; }
}
