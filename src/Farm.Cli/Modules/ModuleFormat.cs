using Farm.Protocol.V1;

namespace Farm.Cli.Modules;

/// <summary>The words module tables print beyond <see cref="StatusWords"/> (shared with the JSON).</summary>
internal static class ModuleFormat
{
    /// <summary>"UP/Ready", "STOP/NotReady", "WAIT/Transient", as docs/modules.md writes them.</summary>
    public static string Combined(ModuleReport module)
    {
        ArgumentNullException.ThrowIfNull(module);
        string sub = module.SubState switch
        {
            ModuleSubState.NotReady => "NotReady",
            ModuleSubState.Transient => "Transient",
            ModuleSubState.Ready => "Ready",
            _ => "?",
        };
        return $"{StatusWords.ModuleState(module.State)}/{sub}";
    }

    /// <summary>"up", "down" or "-" (not run since armed).</summary>
    public static string Checker(CheckerReport checker)
    {
        ArgumentNullException.ThrowIfNull(checker);
        return !checker.HasUp ? "-" : checker.Up ? "up" : "down";
    }
}
