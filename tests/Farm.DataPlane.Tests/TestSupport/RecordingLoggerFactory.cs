using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>Loggers that keep every warning and error, so a test can fail on unexpected ones.</summary>
internal sealed class RecordingLoggerFactory
{
    public ConcurrentQueue<string> Problems { get; } = new();

    public ILogger<T> CreateLogger<T>() => new Logger<T>(this);

    private sealed class Logger<T>(RecordingLoggerFactory owner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Problems.Enqueue($"{logLevel} {typeof(T).Name}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
