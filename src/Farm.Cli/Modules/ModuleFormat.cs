using Farm.Protocol.Json;
using Farm.Protocol.V1;

namespace Farm.Cli.Modules;

/// <summary>The words module output prints, shared by tables and JSON.</summary>
internal static class ModuleFormat
{
    /// <summary>"STOP", "WAIT", "UP" (or "?").</summary>
    public static string State(ModuleRunState state) => StatusWords.ModuleState(state);

    /// <summary>"not_ready", "transient", "ready" (or "unknown").</summary>
    public static string SubState(ModuleSubState subState) => StatusWords.ModuleSubState(subState);

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
        return $"{State(module.State)}/{sub}";
    }

    /// <summary>"up", "down" or "-" (not run since armed).</summary>
    public static string Checker(CheckerReport checker)
    {
        ArgumentNullException.ThrowIfNull(checker);
        return !checker.HasUp ? "-" : checker.Up ? "up" : "down";
    }
}
