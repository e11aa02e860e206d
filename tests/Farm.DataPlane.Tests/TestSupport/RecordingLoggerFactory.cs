using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>Loggers that keep every warning and error, so a test can fail on unexpected ones, and every entry for inspection.</summary>
internal sealed class RecordingLoggerFactory
{
    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>Every entry of every level, as "Level Category: message".</summary>
    public ConcurrentQueue<string> Entries { get; } = new();

    public ILogger<T> CreateLogger<T>() => new Logger<T>(this);

    private sealed class Logger<T>(RecordingLoggerFactory owner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string entry = $"{logLevel} {typeof(T).Name}: {formatter(state, exception)} {exception}";
            owner.Entries.Enqueue(entry);
            if (logLevel >= LogLevel.Warning)
            {
                owner.Problems.Enqueue(entry);
            }
        }
    }
}
