using System.Collections.Immutable;

namespace Farm.Cluster.Membership;

/// <summary>
/// What a node tells its peers in every heartbeat about its hand-overs: the buckets it still drains (tracks
/// connections of) per module, as of the view <see cref="Reflects"/>. A peer that takes a bucket over in view V waits
/// for a report reflecting V or later from every other member before it treats the bucket as fully its own.
/// </summary>
/// <param name="Reflects">The newest view (promised or installed) the report's bucket states already follow; null before any.</param>
/// <param name="Modules">Modules with something to say (draining buckets, flows or incoming buckets), by name.</param>
public sealed record DrainReport(ViewId? Reflects, ImmutableArray<ModuleDrainReport> Modules)
{
    /// <summary>A report of a node that drains nothing, as of no view.</summary>
    public static DrainReport None { get; } = new(null, []);

    /// <summary>The module's part, or null when the report says nothing about it (nothing drains there).</summary>
    public ModuleDrainReport? Find(string module)
    {
        foreach (var m in Modules)
        {
            if (string.Equals(m.Module, module, StringComparison.Ordinal))
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>Value equality (the arrays compare by content).</summary>
    public bool Equals(DrainReport? other) =>
        other is not null && Reflects == other.Reflects && Modules.SequenceEqual(other.Modules);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Reflects, Modules.Length);
}

/// <summary>One module's part of a <see cref="DrainReport"/>.</summary>
/// <param name="Module">Module name.</param>
/// <param name="Draining">Buckets the node still drains, ascending.</param>
/// <param name="Flows">
/// The UDP flows the node still serves in those buckets, so that the new owner does not answer them as new flows
/// (on the wire: FlowKeyCodec in farmd's transport).
/// </param>
/// <param name="Incoming">How many buckets the node is taking over (claimed or incoming), for status.</param>
/// <param name="OldestDrainAge">How long the oldest of the node's drains has run when the report was sent, for status.</param>
public sealed record ModuleDrainReport(string Module, ImmutableArray<int> Draining, ImmutableArray<FlowKey> Flows, int Incoming, TimeSpan? OldestDrainAge)
{
    /// <summary>True when <paramref name="bucket"/> is among the draining buckets.</summary>
    public bool Drains(int bucket) => Draining.BinarySearch(bucket) >= 0;

    /// <summary>Value equality (the bucket list and the flows compare by content; the age does not count).</summary>
    public bool Equals(ModuleDrainReport? other) =>
        other is not null && Module == other.Module && Incoming == other.Incoming &&
        Draining.SequenceEqual(other.Draining) && Flows.SequenceEqual(other.Flows);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Module, Draining.Length, Incoming);
}
