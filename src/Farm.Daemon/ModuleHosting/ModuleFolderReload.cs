namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// <c>farmctl module reload [MODULE]</c>: reads the modules folder again and brings the running modules in line with it,
/// without a farmd restart. A module folder copied there by hand is loaded; a module whose farm.yaml changed (or whose
/// bundle link points at another version) is reloaded live (<see cref="ModuleHost.ReloadAsync"/>: drained, stopped,
/// swapped, started; its data plane rebuilt when the table or the filter changes); a loaded module whose folder is gone is
/// drained, stopped and unloaded; a module whose folder is unchanged is left alone (its scripts and checkers are read
/// from the folder each time they run, so editing them needs no reload). A folder that does not parse, is not root's
/// own, or clashes with the cluster file or another module is refused and the module it names keeps running as it was.
/// </summary>
internal sealed partial class ModuleFolderReload(
    string modulesDirectory, IFileInspector files, bool allowUntrusted, Func<(string File, ClusterConfig Config)> cluster, ModuleHost modules, ILogger<ModuleFolderReload> logger)
{
    /// <summary>What a reload does to one module.</summary>
    public enum Step
    {
        /// <summary>Its folder and farm.yaml are those it runs: left alone.</summary>
        Unchanged,

        /// <summary>Not loaded, its folder is new: loaded and started.</summary>
        Load,

        /// <summary>Loaded, its farm.yaml or folder changed: reloaded live.</summary>
        Reload,

        /// <summary>Loaded, its folder is gone: drained, stopped, unloaded.</summary>
        Unload,

        /// <summary>Its folder cannot be used: nothing changes for the module.</summary>
        Refused,
    }

    /// <summary>One module's step: its name (or the folder's when the farm.yaml names none), the folder to run, and why.</summary>
    public sealed record Decision(string Module, Step Step, string? Folder, string Why);

    /// <summary>A loaded module as the reload compares it: the folder it runs from and the farm.yaml text it was read from.</summary>
    public sealed record Loaded(ModuleConfig Config, string Folder, string? Definition);

    /// <summary>
    /// Pure: the step of every module that <paramref name="only"/> (null: every module) names, from the folders found
    /// and the modules loaded, checked against <paramref name="clusterFile"/> and the modules that do not change.
    /// </summary>
    public static IReadOnlyList<Decision> Plan(
        IReadOnlyList<ModuleFolders.Found> found, IReadOnlyDictionary<string, Loaded> loaded, string? only, bool allowUntrusted, (string File, ClusterConfig Config) clusterFile)
    {
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(loaded);
        var decisions = new List<Decision>();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = found.Where(f => f.Module is not null).GroupBy(f => f.Module!.Name).Where(g => g.Count() > 1).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var f in found)
        {
            // A folder whose farm.yaml names no module still claims the loaded module it holds (by folder or folder name).
            string name = f.Module?.Name
                ?? loaded.FirstOrDefault(l => l.Value.Folder == f.Folder).Key
                ?? Path.GetFileName(Path.GetDirectoryName(f.File))!;
            claimed.Add(name);
            if (only is not null && name != only)
            {
                continue;
            }

            loaded.TryGetValue(name, out var running);
            if (f.Module is null)
            {
                decisions.Add(new Decision(name, Step.Refused, null, string.Join("; ", f.Errors)));
            }
            else if (duplicates.TryGetValue(name, out var same))
            {
                decisions.Add(new Decision(name, Step.Refused, null, $"module name '{name}' is used by {string.Join(" and ", same.Select(s => s.File))}: give every module its own name"));
            }
            else if (f.Untrusted is { } untrusted && !allowUntrusted)
            {
                decisions.Add(new Decision(name, Step.Refused, null, untrusted));
            }
            else if (running is null)
            {
                decisions.Add(new Decision(name, Step.Load, f.Folder, "new folder " + f.Folder));
            }
            else if (running.Folder != f.Folder)
            {
                decisions.Add(new Decision(name, Step.Reload, f.Folder, $"runs from {running.Folder}, the modules folder now has {f.Folder}"));
            }
            else if (running.Definition != f.Text)
            {
                decisions.Add(new Decision(name, Step.Reload, f.Folder, ModuleFolders.DefinitionFile + " changed"));
            }
            else
            {
                decisions.Add(new Decision(name, Step.Unchanged, null, "as loaded"));
            }
        }

        foreach (var (name, _) in loaded.Where(l => !claimed.Contains(l.Key) && (only is null || l.Key == only)))
        {
            decisions.Add(new Decision(name, Step.Unload, null, "its folder is gone"));
        }

        if (only is not null && decisions.Count == 0)
        {
            decisions.Add(new Decision(only, Step.Refused, null, "no such module is loaded nor has a folder here"));
        }

        return CrossChecked(decisions, found, loaded, clusterFile);
    }

    /// <summary>Refuses each change that clashes (a VIP bound twice, a VIP that is a node's address) with the modules that stay as they are.</summary>
    private static List<Decision> CrossChecked(
        List<Decision> decisions, IReadOnlyList<ModuleFolders.Found> found, IReadOnlyDictionary<string, Loaded> loaded, (string File, ClusterConfig Config) clusterFile)
    {
        var changing = decisions.Where(d => d.Step is Step.Load or Step.Reload).ToDictionary(d => d.Module);
        var leaving = decisions.Where(d => d.Step == Step.Unload).Select(d => d.Module).ToHashSet(StringComparer.Ordinal);
        var stable = loaded.Where(l => !changing.ContainsKey(l.Key) && !leaving.Contains(l.Key))
            .Select(l => (Path.Combine(l.Value.Folder, ModuleFolders.DefinitionFile), l.Value.Config)).ToList();
        var next = found.Where(f => f.Module is not null && changing.ContainsKey(f.Module.Name)).ToDictionary(f => f.Module!.Name);
        var result = new List<Decision>(decisions);
        var accepted = new List<(string, ModuleConfig)>();
        foreach (var (name, decision) in changing)
        {
            var candidate = (next[name].File, next[name].Module!);
            if (ConfigCrossCheck.Check(clusterFile, [.. stable, .. accepted, candidate]) is { Count: > 0 } problems)
            {
                result[result.IndexOf(decision)] = decision with { Step = Step.Refused, Folder = null, Why = string.Join("; ", problems) };
            }
            else
            {
                accepted.Add(candidate);
            }
        }

        return result;
    }

    /// <summary>Reads the folder, plans, and runs the steps one module after the other; the outcome line per module, and the refusals.</summary>
    public async Task<(IReadOnlyList<string> Done, IReadOnlyList<string> Refused)> RunAsync(string? only, string requestedBy, CancellationToken cancellationToken)
    {
        var found = ModuleFolders.Scan(modulesDirectory, files, checkTrust: !OperatingSystem.IsWindows());
        var loaded = modules.Loaded();
        var done = new List<string>();
        var refused = new List<string>();
        foreach (var d in Plan(found, loaded, only, allowUntrusted, cluster()))
        {
            Log.Step(logger, d.Module, d.Step.ToString().ToLowerInvariant(), d.Why, requestedBy);
            switch (d.Step)
            {
                case Step.Refused:
                    refused.Add($"{d.Module}: {d.Why}");
                    break;
                case Step.Unchanged:
                    done.Add($"{d.Module}: unchanged");
                    break;
                default:
                    try
                    {
                        done.Add($"{d.Module}: {await modules.ReloadAsync(d.Module, d.Folder, cancellationToken)}");
                    }
                    catch (ModuleStoreException ex)
                    {
                        refused.Add($"{d.Module}: {ex.Message}");
                    }

                    break;
            }
        }

        return (done, refused);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3414, Level = LogLevel.Information, Message = "Module folder reload, asked by {RequestedBy}: {Module} {Step} ({Why})")]
        public static partial void Step(ILogger logger, string module, string step, string why, string requestedBy);
    }
}
