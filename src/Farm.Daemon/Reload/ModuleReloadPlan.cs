namespace Farm.Daemon.Reload;

/// <summary>
/// What a new version of a running module may change live. Scripts, checkers, recovery and every timeout except
/// <c>drain</c> only concern the module's own state machine: farmd drains the module (its buckets go to the other nodes
/// with the hand-over of a drain), stops it, swaps the folder and starts it again. The settings that shape the bucket
/// table and the kernel filter (the agreed definition: seed, buckets, vips, rules, mode, failback), the data plane's
/// interface, vMAC mode and ARP options, and the drain timeout membership uses are bound once at start; a new version
/// that changes one of them is installed but runs only after farmd restarts on the node.
/// </summary>
internal static class ModuleReloadPlan
{
    /// <summary>The settings of <paramref name="next"/> that differ from <paramref name="running"/> and need a restart of farmd; empty when it reloads live.</summary>
    public static IReadOnlyList<string> RestartNeeded(ModuleConfig running, ModuleConfig next)
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
