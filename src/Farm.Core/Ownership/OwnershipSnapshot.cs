using System.Collections.Immutable;

namespace Farm.Core.Ownership;

/// <summary>What this node's data plane must do now: bucket states per module for the installed view. Immutable.</summary>
public sealed class OwnershipSnapshot
{
    public OwnershipSnapshot(long version, ViewId? view, ViewId? reflects, ImmutableSortedDictionary<string, ModuleOwnership> modules)
    {
        Version = version;
        View = view;
        Reflects = reflects;
        Modules = modules;
    }

    /// <summary>Increases with every change, so a data plane can skip identical snapshots.</summary>
    public long Version { get; }

    /// <summary>The installed view these states derive from.</summary>
    public ViewId? View { get; }

    /// <summary>The newest view the states follow: the promised view when one is pending (its releases drain), else <see cref="View"/>.</summary>
    public ViewId? Reflects { get; }

    /// <summary>States per module.</summary>
    public ImmutableSortedDictionary<string, ModuleOwnership> Modules { get; }

    /// <summary>True when both follow the same views and hold the same states and foreign flows (versions aside).</summary>
    public bool SameStatesAs(OwnershipSnapshot other) =>
        View == other.View && Reflects == other.Reflects &&
        Modules.All(kv => other.Modules.TryGetValue(kv.Key, out var old) && old.SameAs(kv.Value));

    /// <summary>True when the bucket takes new flows on this node (owned, incoming or claimed).</summary>
    public bool AcceptsNewFlows(string module, int bucket) =>
        Modules.TryGetValue(module, out var m) && m[bucket] is BucketState.Owned or BucketState.Incoming or BucketState.Claimed;
}
