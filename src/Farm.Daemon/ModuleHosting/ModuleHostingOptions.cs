namespace Farm.Daemon.ModuleHosting;

/// <summary>What <see cref="ModuleHost"/> needs from farmd's settings, bound once at start.</summary>
/// <param name="NodeName">This node's name (the scripts' <c>FARM_NODE</c>, the module reports).</param>
/// <param name="Modules">Modules found under <c>--modules</c>.</param>
/// <param name="Directories">The folder of each module by name; a module without one has no scripts nor custom checkers.</param>
/// <param name="Refused">Modules that must not run on this node, by name, with the reason (see <see cref="ModuleTrust"/>).</param>
/// <param name="LogDirectory">Directory of the rolling log files (one per module besides farmd's), or null for none.</param>
/// <param name="ScriptNiceAdjustment">Added to farmd's nice value for the scripts (and so the applications) it starts: they
/// run at the priority farmd had before it raised its own (see <see cref="Hosting.CpuPriority"/>).</param>
internal sealed record ModuleHostingOptions(
    string NodeName,
    IReadOnlyList<ModuleConfig> Modules,
    IReadOnlyDictionary<string, string> Directories,
    IReadOnlyDictionary<string, string> Refused,
    string? LogDirectory,
    int ScriptNiceAdjustment = 0)
{
    /// <summary>The folder of module <paramref name="module"/>; a path that does not exist when none is known (no scripts run).</summary>
    public string DirectoryOf(string module) =>
        Directories.TryGetValue(module, out var dir) ? dir : Path.Combine(Path.GetTempPath(), "farm-no-module-folder", module);
}
