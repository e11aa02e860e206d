using Microsoft.Extensions.Logging;

namespace Farm.Testing.Logging;

/// <summary>One log call caught by <see cref="TestLogSink"/>: <paramref name="Message"/> is the formatted text, without the exception.</summary>
public sealed record LogEntry(string Category, LogLevel Level, EventId Id, string Message, Exception? Exception)
{
    /// <summary>"Level Category[id]: message exception", for failure messages.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Level} {Category}[{Id.Id}]: {Message}{(Exception is null ? "" : " " + Exception)}");
}
