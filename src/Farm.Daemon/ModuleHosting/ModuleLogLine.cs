namespace Farm.Daemon.ModuleHosting;

/// <summary>One log line of a module, as <c>farmctl logs</c> shows it.</summary>
/// <param name="Seq">Increases by one per line of the module in this farmd run (starts at 1).</param>
/// <param name="Time">When it was logged.</param>
/// <param name="Level">Its level.</param>
/// <param name="Text">The rendered message, e.g. "Module web is UP/Ready: started".</param>
internal sealed record ModuleLogLine(long Seq, DateTimeOffset Time, LogLevel Level, string Text)
{
    /// <summary>The level's word on the wire and in JSON (<c>farmctl logs --json</c>, the console): trace, debug, info, warning, error, critical.</summary>
    public string LevelName => Level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };
}
