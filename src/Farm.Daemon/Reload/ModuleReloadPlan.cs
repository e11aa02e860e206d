namespace Farm.Daemon.Reload;

/// <summary>
/// What a new version of a running module changes. Scripts, checkers, recovery and every timeout except <c>drain</c>
/// only concern the module's own state machine: farmd drains the module (its buckets go to the other nodes with the
/// hand-over of a drain), stops it, swaps the folder and starts it again. The settings that shape the bucket table and
/// the kernel filter (the agreed definition: seed, buckets, vips, rules, mode, failback), the data plane's interface,
/// vMAC mode and ARP options, and the drain timeout membership uses reshape the module: between the stop and the start
/// its data plane is torn down and rebuilt and membership announces the new definition (docs/modules.md).
/// </summary>
internal static class ModuleReloadPlan
{
    /// <summary>The settings of <paramref name="next"/> that differ from <paramref name="running"/> and reshape the module; empty when only its state machine changes.</summary>
    public static IReadOnlyList<string> Reshaping(ModuleConfig running, ModuleConfig next)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(next);
        var changes = new List<string>(ModuleConfigHasher.DifferingSettings(ModuleConfigHasher.Lines(running), ModuleConfigHasher.Lines(next)));
        if (running.Name != next.Name)
        {
            changes.Insert(0, "name");
        }

        if (running.Interface != next.Interface)
        {
            changes.Add("interface");
        }

        if (running.VmacMode != next.VmacMode)
        {
            changes.Add("vmac_mode");
        }

        if (running.Arp != next.Arp)
        {
            changes.Add("arp");
        }

        if (running.Timeouts.Drain != next.Timeouts.Drain)
        {
            changes.Add("timeouts.drain");
        }

        return [.. changes.Distinct(StringComparer.Ordinal)];
    }
}
