using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Drain;

/// <summary>How far a drained node's hand-over got: the one rule behind status and the drain answer.</summary>
internal static class DrainProgress
{
    /// <summary>
    /// None unless a drain was asked; drained when the node owns no bucket in the installed view and takes over or
    /// hands over none; draining otherwise.
    /// </summary>
    public static Wire.DrainState State(bool drainAsked, int owned, IEnumerable<ModuleDrainStatus> drains)
    {
        ArgumentNullException.ThrowIfNull(drains);
        if (!drainAsked)
        {
            return Wire.DrainState.None;
        }

        return owned > 0 || drains.Any(d => d.Incoming > 0 || d.Draining > 0) ? Wire.DrainState.Draining : Wire.DrainState.Drained;
    }

    /// <summary>Buckets of every module the view gives <paramref name="node"/>; 0 without a view.</summary>
    public static int Owned(ClusterView? view, string node) => view?.Tables.Values.Sum(t => t.CountOf(node)) ?? 0;

    /// <summary>
    /// The modules that no other reachable node would serve while this one is drained (none has the module ready, a
    /// weight above 0, and is not leaving itself), in name order.
    /// </summary>
    public static IReadOnlyList<string> Unserved(MembershipManager manager, TimeSpan now, IEnumerable<string> modules)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(modules);
        var serving = manager.PeerStatuses(now)
            .Where(p => p.Reachable && p.Info is { Leaving: false, Weight: > 0 })
            .SelectMany(p => p.Info!.ReadyModules)
            .ToHashSet(StringComparer.Ordinal);
        return [.. modules.Where(m => !serving.Contains(m)).Order(StringComparer.Ordinal)];
    }
}
