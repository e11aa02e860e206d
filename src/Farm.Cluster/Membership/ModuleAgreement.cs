using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>
/// The one definition of a module a view agrees on, and who differs from it. A pure function of the view's members, so
/// every node computes the same agreement (and the same tables) from the same view. See docs/architecture.md
/// ("Module agreement").
/// </summary>
/// <remarks>
/// Rule: among the members that announce a definition of the module and have it ready (all that announce one when none
/// has it ready), the hash announced by the most members wins; a tie goes to the hash of the longest-running member
/// (lowest incarnation: the incarnation is the start time), then to the lowest name. So a node restarted with another file does not take the module from the nodes already serving it,
/// and a change rolled out to most nodes wins. Members announcing no definition (older nodes) are not compared, and while one of them has the
/// module ready, the module is not agreed on at all (older nodes compute its table without agreement).
/// </remarks>
public static class ModuleAgreement
{
    /// <summary>
    /// <paramref name="self"/> announcing its definition of each module it runs, sorted by module (a caller may have set
    /// them already: kept).
    /// </summary>
    public static MemberInfo WithDefinitions(MemberInfo self, IReadOnlyList<ModuleSpec> modules)
    {
        ArgumentNullException.ThrowIfNull(self);
        return self.Definitions.IsEmpty
            ? self with { Definitions = [.. modules.Select(m => m.ToDefinition()).OfType<ModuleDefinition>().OrderBy(d => d.Module, StringComparer.Ordinal)] }
            : self;
    }

    /// <summary>The agreed definition of <paramref name="module"/> among <paramref name="members"/>, or null when none announces one.</summary>
    public static ModuleDefinition? Agreed(string module, IEnumerable<MemberInfo> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        ModuleDefinition? best = null;
        (int Count, long Incarnation, string Name) bestKey = default;
        var groups = new Dictionary<string, (int Count, long Incarnation, string Name, ModuleDefinition Definition)>(StringComparer.Ordinal);
        var announcing = new List<(MemberInfo Member, ModuleDefinition Definition, bool Ready)>();
        foreach (var m in members)
        {
            bool ready = m.ReadyModules.Contains(module, StringComparer.Ordinal);
            if (m.DefinitionOf(module) is { } own)
            {
                announcing.Add((m, own, ready));
            }
            else if (ready)
            {
                // A node that predates agreement serves the module: it computes tables without agreement, so
                // everyone must (the tables would differ otherwise and no view could form). Enforced once all run it.
                return null;
            }
        }

        // Members that have the module ready count first: a node reloading the module (not ready) never keeps its old
        // definition agreed against a node already serving the new one (nobody would serve meanwhile).
        bool anyReady = announcing.Any(a => a.Ready);
        foreach (var (m, d, _) in announcing.Where(a => a.Ready || !anyReady))
        {
            groups[d.Hash] = groups.TryGetValue(d.Hash, out var g)
                ? (g.Count + 1, Math.Min(g.Incarnation, m.Incarnation), string.CompareOrdinal(m.Name, g.Name) < 0 ? m.Name : g.Name, g.Definition)
                : (1, m.Incarnation, m.Name, d);
        }

        foreach (var g in groups.Values)
        {
            if (best is null || g.Count > bestKey.Count ||
                (g.Count == bestKey.Count && (g.Incarnation < bestKey.Incarnation ||
                    (g.Incarnation == bestKey.Incarnation && string.CompareOrdinal(g.Name, bestKey.Name) < 0))))
            {
                best = g.Definition;
                bestKey = (g.Count, g.Incarnation, g.Name);
            }
        }

        return best;
    }

    /// <summary>True when <paramref name="member"/> announces a definition of the module other than <paramref name="agreed"/>.</summary>
    public static bool Differs(MemberInfo member, string module, ModuleDefinition? agreed)
    {
        ArgumentNullException.ThrowIfNull(member);
        return agreed is not null && member.DefinitionOf(module) is { } own && !string.Equals(own.Hash, agreed.Hash, StringComparison.Ordinal);
    }

    /// <summary>
    /// The spec the table of <paramref name="local"/>'s module is computed with: the agreed definition's bucket count,
    /// mode and failback when there is one (so a node whose file differs computes the same table), else the local spec.
    /// </summary>
    public static (int BucketCount, BucketMode Mode, bool Failback) TableShape(ModuleSpec local, ModuleDefinition? agreed)
    {
        ArgumentNullException.ThrowIfNull(local);
        return agreed is null ? (local.BucketCount, local.Mode, local.Failback) : (agreed.BucketCount, agreed.Mode, agreed.Failback);
    }

    /// <summary>Every member of <paramref name="view"/> whose definition of one of <paramref name="modules"/> differs from the agreed one.</summary>
    public static IReadOnlyList<ModuleMismatch> Mismatches(ClusterView view, IEnumerable<string> modules)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(modules);
        var result = new List<ModuleMismatch>();
        foreach (var module in modules)
        {
            var agreed = Agreed(module, view.Members);
            foreach (var m in view.Members)
            {
                if (Differs(m, module, agreed))
                {
                    var own = m.DefinitionOf(module)!;
                    result.Add(new ModuleMismatch(module, m.Name, own.Hash, agreed!.Hash,
                        Farm.Core.Config.ModuleConfigHasher.DifferingSettings(agreed.Settings, own.Settings)));
                }
            }
        }

        return result;
    }
}
