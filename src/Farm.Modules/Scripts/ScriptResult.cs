namespace Farm.Modules.Scripts;

/// <summary>The end of one script run.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="ExitCode">The exit code of the last run, when it exited by itself.</param>
/// <param name="Detail">A short human reason, e.g. "exit code 3" or "timed out after 60s; killed".</param>
/// <param name="LastOutput">The last non-empty output line, which often says why a script failed.</param>
internal sealed record ScriptResult(ScriptOutcome Outcome, int? ExitCode, string Detail, string? LastOutput = null)
{
    /// <summary>True when the transition may go on: exit 0, absent, or stopped by its forced run.</summary>
    public bool Succeeded => Outcome is ScriptOutcome.Succeeded or ScriptOutcome.Skipped or ScriptOutcome.Forced;

    /// <summary>The detail with the last output line appended, for reasons in status.</summary>
    public string Describe() => LastOutput is { Length: > 0 } line ? $"{Detail} ({line})" : Detail;

    public static ScriptResult Ok() => new(ScriptOutcome.Succeeded, 0, "exit code 0");

    public static ScriptResult Skip() => new(ScriptOutcome.Skipped, null, "not present, skipped");

    public static ScriptResult Fail(int exitCode, string? lastOutput = null) => new(ScriptOutcome.Failed, exitCode, $"exit code {exitCode}", lastOutput);
}
