using System.Collections.Immutable;

namespace Farm.Cluster.Membership;

/// <summary>What this node's data plane must do now: bucket states per module for the installed view. Immutable.</summary>
public sealed class OwnershipSnapshot
{
    internal OwnershipSnapshot(long version, ViewId? view, ImmutableSortedDictionary<string, ModuleOwnership> modules)
    {
        Version = version;
        View = view;
        Modules = modules;
    }

    /// <summary>Increases with every change, so a data plane can skip identical snapshots.</summary>
    public long Version { get; }

    /// <summary>The installed view these states derive from.</summary>
    public ViewId? View { get; }

    /// <summary>States per module.</summary>
    public ImmutableSortedDictionary<string, ModuleOwnership> Modules { get; }

    /// <summary>True when the bucket takes new flows on this node (owned or incoming).</summary>
    public bool AcceptsNewFlows(string module, int bucket) =>
        Modules.TryGetValue(module, out var m) && m[bucket] is BucketState.Owned or BucketState.Incoming;
}
