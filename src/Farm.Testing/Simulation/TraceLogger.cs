using Microsoft.Extensions.Logging;

namespace Farm.Testing.Simulation;

/// <summary>Writes a simulated node's log lines into the simulation trace (for replaying one seed).</summary>
public sealed class TraceLogger(SimCluster sim, string node) : ILogger
{
    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        sim.Note($"{node}: {formatter(state, exception)}");
    }
}
