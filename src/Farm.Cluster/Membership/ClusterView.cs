using System.Collections.Immutable;
using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>
/// An installed or proposed view: its id, its members (sorted by name) and the bucket table of every
/// module. Immutable; replaced whole.
/// </summary>
public sealed class ClusterView
{
    /// <summary>Creates a view; members are sorted by name.</summary>
    public ClusterView(ViewId id, IEnumerable<MemberInfo> members, ImmutableSortedDictionary<string, BucketTable> tables)
    {
        ArgumentNullException.ThrowIfNull(members);
        Id = id;
        Members = [.. members.OrderBy(m => m.Name, StringComparer.Ordinal)];
        Tables = tables ?? throw new ArgumentNullException(nameof(tables));
    }

    /// <summary>The view id (epoch and proposer).</summary>
    public ViewId Id { get; }

    /// <summary>Members sorted by name.</summary>
    public ImmutableArray<MemberInfo> Members { get; }

    /// <summary>Bucket table per module name.</summary>
    public ImmutableSortedDictionary<string, BucketTable> Tables { get; }

    /// <summary>The member with this name, or null.</summary>
    public MemberInfo? Find(string name)
    {
        foreach (var m in Members)
        {
            if (string.Equals(m.Name, name, StringComparison.Ordinal))
            {
                return m;
            }
        }

        return null;
    }

    /// <summary>True when this exact daemon run (name and incarnation) is a member.</summary>
    public bool Contains(MemberInfo run) => Find(run.Name) is { } m && m.IsSameRun(run);

    /// <summary>True when this view has exactly the given members (full value comparison).</summary>
    public bool HasMembers(IReadOnlyList<MemberInfo> sortedMembers) =>
        Members.Length == sortedMembers.Count && Members.SequenceEqual(sortedMembers);

    /// <summary>True when this view lists exactly the daemon runs of <paramref name="sortedMembers"/> (names and incarnations; weights, readiness and the rest may differ).</summary>
    public bool HasRuns(IReadOnlyList<MemberInfo> sortedMembers)
    {
        ArgumentNullException.ThrowIfNull(sortedMembers);
        if (Members.Length != sortedMembers.Count)
        {
            return false;
        }

        for (int i = 0; i < Members.Length; i++)
        {
            if (!Members[i].IsSameRun(sortedMembers[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A fingerprint of all tables, compared between nodes to catch divergent computations.</summary>
    public ulong TablesFingerprint => ComputeFingerprint(Tables);

    /// <summary>Combines the fingerprints of tables in module order.</summary>
    public static ulong ComputeFingerprint(ImmutableSortedDictionary<string, BucketTable> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ulong h = 1469598103934665603UL;
        foreach (var (_, table) in tables)
        {
            h = (h ^ table.Fingerprint) * 1099511628211UL;
        }

        return h;
    }

    /// <summary>
    /// Computes the tables of a view from the previous tables and the new members with the foundation's
    /// deterministic transition. A member gets a module's buckets only if the module is ready on it, it is not leaving and
    /// its definition of the module is the agreed one (<see cref="ModuleAgreement"/>).
    /// </summary>
    /// <remarks>
    /// The view has a table for every module a member announces a definition of, also one this node does not run (in
    /// the agreed shape), and for each of <paramref name="modules"/> that announces none (a node that predates agreement:
    /// every node runs the same list). So nodes that loaded a module live and nodes that did not compute the same tables.
    /// </remarks>
    public static ImmutableSortedDictionary<string, BucketTable> ComputeTables(
        ImmutableSortedDictionary<string, BucketTable>? previous, IReadOnlyList<MemberInfo> members, IReadOnlyList<ModuleSpec> modules, long epoch)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(modules);
        var builder = ImmutableSortedDictionary.CreateBuilder<string, BucketTable>(StringComparer.Ordinal);
        var names = members.SelectMany(m => m.Definitions).Select(d => d.Module).Concat(modules.Where(s => s.Hash.Length == 0).Select(s => s.Name));
        foreach (string name in names.Distinct(StringComparer.Ordinal))
        {
            // One definition per module (ModuleAgreement): its table shape, and no buckets for members that differ.
            var agreed = ModuleAgreement.Agreed(name, members);
            var module = modules.FirstOrDefault(s => s.Name == name)
                ?? (agreed ?? members.Select(m => m.DefinitionOf(name)).OfType<ModuleDefinition>().First()).ToSpec();
            var (bucketCount, mode, failback) = ModuleAgreement.TableShape(module, agreed);
            BucketTable? prev = null;
            if (previous is not null && previous.TryGetValue(module.Name, out var p) && p.BucketCount == bucketCount)
            {
                prev = p;
            }

            var bucketMembers = members
                .Select(m => new BucketMember(
                    m.Name,
                    m.Leaving || !m.ReadyModules.Contains(module.Name, StringComparer.Ordinal) || ModuleAgreement.Differs(m, module.Name, agreed) ? 0 : m.Weight,
                    m.Priority))
                .ToList();
            builder[module.Name] = BucketTransition.Next(prev ?? BucketTable.Empty(bucketCount), bucketMembers, epoch, mode, failback);
        }

        return builder.ToImmutable();
    }
}
