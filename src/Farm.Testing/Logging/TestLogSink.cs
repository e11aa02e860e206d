using Microsoft.Extensions.Logging;

namespace Farm.Testing.Logging;

/// <summary>
/// The one log sink of the tests: keeps every entry of every logger it made (as an <see cref="ILoggerProvider"/> for a
/// host, or through <see cref="CreateLogger{T}"/> for one class), so a test can assert on them and fail on unexpected
/// warnings or errors (<see cref="AssertNoWarnings"/>, <see cref="AssertNoErrors"/>). Disposing (a host does it when it
/// stops) keeps the entries.
/// </summary>
public sealed class TestLogSink : ILoggerProvider
{
    /// <summary>Every entry, in the order logged.</summary>
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    /// <summary>The formatted messages of every entry, in the order logged.</summary>
    public IEnumerable<string> Messages => Entries.Select(e => e.Message);

    /// <summary>The entries of <paramref name="minimum"/> level or above (default: warnings and errors).</summary>
    public IReadOnlyList<LogEntry> Problems(LogLevel minimum = LogLevel.Warning) => [.. Entries.Where(e => e.Level >= minimum && e.Level != LogLevel.None)];

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>A logger for <typeparamref name="T"/> whose category is the type's full name.</summary>
    public ILogger<T> CreateLogger<T>() => new Logger<T>(this);

    /// <summary>Throws <see cref="UnexpectedLogException"/> listing every warning and error logged so far.</summary>
    public void AssertNoWarnings() => AssertNone(LogLevel.Warning);

    /// <summary>Throws <see cref="UnexpectedLogException"/> listing every error (and critical entry) logged so far.</summary>
    public void AssertNoErrors() => AssertNone(LogLevel.Error);

    /// <summary>Forgets every entry (for a sink shared by the tests of a class).</summary>
    public void Clear() => Entries.Clear();

    /// <summary>Nothing to release; the entries stay readable after a host disposed its providers.</summary>
    public void Dispose()
    {
    }

    private void AssertNone(LogLevel minimum)
    {
        var problems = Problems(minimum);
        if (problems.Count > 0)
        {
            throw new UnexpectedLogException($"{problems.Count} unexpected log entries of level {minimum} or above:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }
    }

    private class Logger(TestLogSink owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            owner.Entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
        }
    }

    private sealed class Logger<T>(TestLogSink owner) : Logger(owner, typeof(T).FullName ?? typeof(T).Name), ILogger<T>;
}
