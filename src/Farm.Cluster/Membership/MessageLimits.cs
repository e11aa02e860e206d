using System.Collections.Frozen;
using Farm.Core.Buckets;
using Farm.Core.Config;

namespace Farm.Cluster.Membership;

/// <summary>
/// What a peer's membership message may carry, checked when it arrives (before anything is expanded): how many members
/// and modules, and each module's bucket count, which bounds the buckets a drain report may name. Built once per node
/// from its configuration with <see cref="For"/>; <see cref="Unconfigured"/> knows no module.
/// </summary>
public sealed record MessageLimits
{
    /// <summary>
    /// Most modules a message may name (drain report parts, tables, a member's ready modules). A node runs a few; this
    /// leaves room without letting a small message fan out into many bucket lists.
    /// </summary>
    public const int MaxModules = 64;

    /// <summary>Bounds without any node's configuration: the cluster file's node limit, no module known.</summary>
    public static MessageLimits Unconfigured { get; } = new();

    /// <summary>Most members a view, proposal or still-heard list may hold. Default <see cref="ClusterConfig.MaxNodes"/>.</summary>
    public int MaxMembers { get; init; } = ClusterConfig.MaxNodes;

    /// <summary>
    /// This node's modules and their bucket counts. Every drain report's ranges must lie within
    /// <see cref="BucketTable.MaxBucketCount"/>; a part for a module not listed (another node may run a module this one
    /// does not), or one beyond the module's count here (the sender's definition differs, see <c>ModuleAgreement</c>), is
    /// not kept: the manager reads reports only for its own modules, in its own table shape.
    /// When null (unconfigured), every module is kept within <see cref="BucketTable.MaxBucketCount"/>.
    /// </summary>
    public IReadOnlyDictionary<string, int>? BucketCounts { get; init; }

    /// <summary>The limits of a node: its cluster's node count and its modules' bucket counts.</summary>
    public static MessageLimits For(MembershipOptions options, IEnumerable<ModuleSpec> modules)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(modules);
        return new MessageLimits
        {
            MaxMembers = options.ConfiguredNodes.Count,
            BucketCounts = modules.ToFrozenDictionary(m => m.Name, m => m.BucketCount, StringComparer.Ordinal),
        };
    }
}
