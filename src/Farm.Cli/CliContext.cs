namespace Farm.Cli;

/// <summary>Where a command writes and what it may assume about it; tests pass string writers and a redirected terminal.</summary>
/// <param name="Output">Results (tables, JSON).</param>
/// <param name="Error">Failures and usage errors.</param>
/// <param name="Terminal">Whether a person reads <paramref name="Output"/> (colors, width, screen clearing).</param>
/// <param name="TimeProvider">The clock (deadlines, timestamps of --watch).</param>
internal sealed record CliContext(TextWriter Output, TextWriter Error, CliTerminal Terminal, TimeProvider TimeProvider)
{
    /// <summary>Where secrets typed by the admin are read (a password); null: the process's standard input or terminal.</summary>
    public TextReader? Input { get; init; }
}
