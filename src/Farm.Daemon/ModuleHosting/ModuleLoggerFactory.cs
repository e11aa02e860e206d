namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// The logger factory a module's manager gets: every logger writes to farmd's own log as usual and, from Information
/// up, also into the module's <see cref="ModuleLogBuffer"/> (transitions, reasons, script output, checker verdicts,
/// traffic gate), which <c>farmctl logs</c> reads.
/// </summary>
internal sealed class ModuleLoggerFactory(ILoggerFactory inner, ModuleLogBuffer buffer, TimeProvider timeProvider) : ILoggerFactory
{
    /// <summary>The lowest level that reaches the module's buffer.</summary>
    public const LogLevel BufferLevel = LogLevel.Information;

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public ILogger CreateLogger(string categoryName) => new TeeLogger(inner.CreateLogger(categoryName), buffer, timeProvider);

    public void Dispose()
    {
        // The inner factory belongs to the daemon's host.
    }

    private sealed class TeeLogger(ILogger inner, ModuleLogBuffer buffer, TimeProvider timeProvider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= BufferLevel && logLevel != LogLevel.None || inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (inner.IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }

            if (logLevel >= BufferLevel && logLevel != LogLevel.None)
            {
                string text = formatter(state, exception);
                buffer.Append(timeProvider.GetUtcNow(), logLevel, exception is null ? text : $"{text}: {exception.Message}");
            }
        }
    }
}
