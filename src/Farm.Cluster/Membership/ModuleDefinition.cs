using System.Collections.Immutable;
using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>
/// What a node announces about one of its modules so the view can agree on one definition per module: the hash of
/// the settings that must agree (<c>ModuleConfigHasher</c>), their canonical lines (to name what differs) and the
/// settings that shape the bucket table, so every node computes the agreed table even where its own file differs.
/// </summary>
/// <param name="Module">The module's name.</param>
/// <param name="Hash">The module definition hash (<c>ModuleConfig.ComputeHash</c>).</param>
/// <param name="BucketCount">The module's bucket count.</param>
/// <param name="Mode">Balance or single.</param>
/// <param name="Failback">Single mode's failback.</param>
/// <param name="Settings">The canonical <c>path=value</c> lines the hash covers.</param>
public sealed record ModuleDefinition(string Module, string Hash, int BucketCount, BucketMode Mode, bool Failback, ImmutableArray<string> Settings)
{
    /// <summary>The table shape this definition gives a node that does not run the module (it computes the view's table all the same).</summary>
    public ModuleSpec ToSpec() => new(Module, BucketCount, Mode, Failback);

    /// <summary>Value equality (the hash covers the settings, so equal hashes mean equal lines).</summary>
    public bool Equals(ModuleDefinition? other) =>
        other is not null && string.Equals(Module, other.Module, StringComparison.Ordinal) && string.Equals(Hash, other.Hash, StringComparison.Ordinal) &&
        BucketCount == other.BucketCount && Mode == other.Mode && Failback == other.Failback;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(Module), StringComparer.Ordinal.GetHashCode(Hash));
}
