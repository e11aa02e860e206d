namespace Farm.Modules.Scripts;

/// <summary>How a script run ended.</summary>
internal enum ScriptOutcome
{
    /// <summary>Exit code 0.</summary>
    Succeeded,

    /// <summary>The module does not ship this script; nothing ran (scripts are optional).</summary>
    Skipped,

    /// <summary>A stop script overran its timeout, and its run with the <c>force</c> argument then exited 0.</summary>
    Forced,

    /// <summary>Non-zero exit code, or the script could not be started.</summary>
    Failed,

    /// <summary>The script (and, for stop scripts, its forced run) overran; its process group was killed.</summary>
    TimedOut,
}
