using System.Collections.Immutable;

namespace Farm.Core.Ownership;

/// <summary>What this node's data plane must do now: bucket states per module for the installed view. Immutable.</summary>
public sealed class OwnershipSnapshot
{
    public OwnershipSnapshot(long version, ViewId? view, ViewId? reflects, ImmutableSortedDictionary<string, ModuleOwnership> modules, long rejoinClaims = 0)
    {
        Version = version;
        View = view;
        Reflects = reflects;
        Modules = modules;
        RejoinClaims = rejoinClaims;
    }

    /// <summary>Increases with every change, so a data plane can skip identical snapshots.</summary>
    public long Version { get; }

    /// <summary>The installed view these states derive from.</summary>
    public ViewId? View { get; }

    /// <summary>The newest view the states follow: the promised view when one is pending (its releases drain), else <see cref="View"/>.</summary>
    public ViewId? Reflects { get; }

    /// <summary>
    /// How many times this run claimed buckets after it was out of the view: at the promise, and at the install, of a
    /// view derived from a view without it (it was removed: its lease ran out, or a partition under policy none), or at
    /// the install of a view it never promised after missed views (it cannot tell). Others may have served its flows
    /// meanwhile. A counter, so a data plane that skipped snapshots still sees it grow (<see cref="StaleEntryPolicy"/>).
    /// </summary>
    public long RejoinClaims { get; }

    /// <summary>States per module.</summary>
    public ImmutableSortedDictionary<string, ModuleOwnership> Modules { get; }

    /// <summary>True when both follow the same views and hold the same states and foreign flows (versions aside) after as many rejoins.</summary>
    public bool SameStatesAs(OwnershipSnapshot other) =>
        View == other.View && Reflects == other.Reflects && RejoinClaims == other.RejoinClaims &&
        Modules.All(kv => other.Modules.TryGetValue(kv.Key, out var old) && old.SameAs(kv.Value));

    /// <summary>True when the bucket takes new flows on this node (owned, incoming or claimed).</summary>
    public bool AcceptsNewFlows(string module, int bucket) =>
        Modules.TryGetValue(module, out var m) && m[bucket] is BucketState.Owned or BucketState.Incoming or BucketState.Claimed;
}
