using System.Collections.Immutable;

namespace Farm.Cluster.Membership;

/// <summary>What a node says about itself in every heartbeat; a view lists one per member.</summary>
/// <param name="Name">Node name from the cluster file.</param>
/// <param name="Incarnation">Chosen at daemon start, larger than any earlier start's: tells a restarted node from its old self.</param>
/// <param name="Weight">Bucket weight from the cluster file (0..1000).</param>
/// <param name="Priority">Active/passive priority (higher is preferred).</param>
/// <param name="Leaving">The node is shutting down or drained: it keeps serving what it has but takes no share.</param>
/// <param name="ReadyModules">Modules UP on this node, sorted ordinally: only they get buckets.</param>
public sealed record MemberInfo(string Name, long Incarnation, int Weight, int Priority, bool Leaving, ImmutableArray<string> ReadyModules)
{
    /// <summary>
    /// The definition of every module configured on this node (ready or not), sorted by module: the view agrees on one
    /// per module (<see cref="ModuleAgreement"/>). Empty from a node that predates agreement: it is not compared.
    /// </summary>
    public ImmutableArray<ModuleDefinition> Definitions { get; init; } = [];

    /// <summary>This node's definition of <paramref name="module"/>, or null when it announces none.</summary>
    public ModuleDefinition? DefinitionOf(string module)
    {
        foreach (var d in Definitions)
        {
            if (string.Equals(d.Module, module, StringComparison.Ordinal))
            {
                return d;
            }
        }

        return null;
    }

    /// <summary>What this run says about itself from now on: <paramref name="info"/>, which must describe the same run.</summary>
    /// <exception cref="ArgumentException"><paramref name="info"/> names another node or incarnation.</exception>
    public MemberInfo ChangedTo(MemberInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return info.IsSameRun(this) ? info : throw new ArgumentException("A node cannot change its name or incarnation.", nameof(info));
    }

    /// <summary>True when both describe the same daemon run (name and incarnation).</summary>
    public bool IsSameRun(MemberInfo other) =>
        other is not null && Incarnation == other.Incarnation && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <summary>Value equality, including the module list (arrays compare by reference otherwise).</summary>
    public bool Equals(MemberInfo? other) =>
        other is not null && IsSameRun(other) && Weight == other.Weight && Priority == other.Priority &&
        Leaving == other.Leaving && ReadyModules.SequenceEqual(other.ReadyModules, StringComparer.Ordinal) &&
        Definitions.SequenceEqual(other.Definitions);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(Name), Incarnation, Weight, Priority, Leaving);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}#{Incarnation} w={Weight} p={Priority}{(Leaving ? " leaving" : "")} [{string.Join(",", ReadyModules)}]";
}
