namespace Farm.Core.Config;

/// <summary>Per-script overrides (an entry of <c>module.scripts</c>, keyed by script name).</summary>
public sealed record ScriptConfig
{
    /// <summary>The script names a module may ship in <c>bin/</c>, in the order they run.</summary>
    public static readonly IReadOnlyList<string> KnownScripts = ["prestart", "start_both", "start_prim", "stop_prim", "stop_both", "poststop"];

    /// <summary>The script name, one of <see cref="KnownScripts"/>.</summary>
    public required string Name { get; init; }

    /// <summary><c>timeout</c>: limit for this script, replacing <c>timeouts.start</c> or <c>timeouts.stop</c>; null keeps those. 1 s to 1 h.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>True for the scripts that start the application (limited by <c>timeouts.start</c> by default).</summary>
    public static bool IsStartScript(string name) => name is "prestart" or "start_both" or "start_prim";
}
