using Farm.Modules.Scripts;

namespace Farm.Modules.Checkers;

/// <summary>What checkers need from their module: where it lives and how to run its scripts.</summary>
/// <param name="Module">Module name.</param>
/// <param name="ModuleDirectory">The module folder (custom checker paths are relative to it).</param>
/// <param name="Runner">Runs custom checker scripts.</param>
/// <param name="Environment">FARM_* variables for custom checker scripts.</param>
internal sealed record CheckerContext(string Module, string ModuleDirectory, IScriptRunner Runner, IReadOnlyDictionary<string, string> Environment);
