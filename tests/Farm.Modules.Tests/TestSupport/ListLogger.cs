using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Farm.Modules.Tests.TestSupport;

/// <summary>Collects log entries so tests can assert on them (and on the absence of errors).</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, int EventId, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));

    public IEnumerable<string> Messages => Entries.Select(e => e.Message);

    public void AssertNoErrors()
    {
        var errors = Entries.Where(e => e.Level >= LogLevel.Error).Select(e => e.Message).ToList();
        Assert.IsEmpty(errors, "unexpected error logs: " + string.Join(" | ", errors));
    }
}
