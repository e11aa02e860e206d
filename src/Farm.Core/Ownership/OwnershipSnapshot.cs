using System.Collections.Immutable;

namespace Farm.Core.Ownership;

/// <summary>What this node's data plane must do now: bucket states per module for the installed view. Immutable.</summary>
public sealed class OwnershipSnapshot
{
    public OwnershipSnapshot(long version, ViewId? view, ViewId? reflects, ImmutableSortedDictionary<string, ModuleOwnership> modules, long claims = 0, long foreignClaims = 0)
    {
        Version = version;
        View = view;
        Reflects = reflects;
        Modules = modules;
        Claims = claims;
        ForeignClaims = foreignClaims;
    }

    /// <summary>Increases with every change, so a data plane can skip identical snapshots.</summary>
    public long Version { get; }

    /// <summary>The installed view these states derive from.</summary>
    public ViewId? View { get; }

    /// <summary>The newest view the states follow: the promised view when one is pending (its releases drain), else <see cref="View"/>.</summary>
    public ViewId? Reflects { get; }

    /// <summary>
    /// How many times this run claimed buckets so far (each install or promise that claimed any counts once). A claim
    /// may end within the call that made it, so its state alone can go unseen; a data plane that skipped snapshots still
    /// sees this grow (<see cref="StaleEntryPolicy"/>).
    /// </summary>
    public long Claims { get; }

    /// <summary>
    /// How many of <see cref="Claims"/> came with a view of a history this node took no part in (after a partition its
    /// side served on, under split-brain policy none): the other side may have served the same flows.
    /// </summary>
    public long ForeignClaims { get; }

    /// <summary>States per module.</summary>
    public ImmutableSortedDictionary<string, ModuleOwnership> Modules { get; }

    /// <summary>True when both follow the same views and hold the same states and foreign flows (versions aside) after as many claims.</summary>
    public bool SameStatesAs(OwnershipSnapshot other) =>
        View == other.View && Reflects == other.Reflects && Claims == other.Claims && ForeignClaims == other.ForeignClaims &&
        Modules.All(kv => other.Modules.TryGetValue(kv.Key, out var old) && old.SameAs(kv.Value));

    /// <summary>True when the bucket takes new flows on this node (owned, incoming or claimed).</summary>
    public bool AcceptsNewFlows(string module, int bucket) =>
        Modules.TryGetValue(module, out var m) && m[bucket] is BucketState.Owned or BucketState.Incoming or BucketState.Claimed;
}
