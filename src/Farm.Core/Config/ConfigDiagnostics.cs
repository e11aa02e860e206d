using Farm.Core.Text;

namespace Farm.Core.Config;

/// <summary>
/// Collects located errors for one file; binders append and go on, they never stop at the first error. Beyond
/// <see cref="ConfigLimits.MaxErrors"/> errors are counted, not kept (a hostile file could otherwise make millions).
/// </summary>
internal sealed class ConfigDiagnostics(string file)
{
    private readonly List<ConfigError> errors = [];
    private ConfigError? firstDropped;
    private int dropped;

    public string File { get; } = file;

    public IReadOnlyList<ConfigError> Errors => errors;

    /// <summary>Every error found, including those beyond the limit.</summary>
    public int Count => errors.Count + dropped;

    /// <summary>Longest message or hint kept; they quote values from the file, which may be huge.</summary>
    public const int MaxMessageLength = 500;

    /// <summary>Adds an error; quoted values are made printable (a file must not drive the terminal of whoever checks it).</summary>
    public void Add(int line, int column, string message, string? hint)
    {
        message = PrintableText.Neutralize(message, MaxMessageLength);
        hint = hint is null ? null : PrintableText.Neutralize(hint, MaxMessageLength);
        if (errors.Count >= ConfigLimits.MaxErrors)
        {
            firstDropped ??= new ConfigError(File, line, column, message, hint);
            dropped++;
            return;
        }

        errors.Add(new ConfigError(File, line, column, message, hint));
    }

    public void Add(YamlNodeBase at, string message, string? hint) => Add(at.Line, at.Column, message, hint);

    /// <summary>
    /// Errors in file order, so a reader can walk the file top to bottom; stable for equal positions. When errors were
    /// left out, a last one says how many, at the first of them.
    /// </summary>
    public IReadOnlyList<ConfigError> Sorted()
    {
        List<ConfigError> sorted = [.. errors.Select((e, i) => (e, i)).OrderBy(x => x.e.Line).ThenBy(x => x.e.Column).ThenBy(x => x.i).Select(x => x.e)];
        if (firstDropped is { } first)
        {
            sorted.Add(first with
            {
                Message = $"{dropped} more error(s) not shown (the first {ConfigLimits.MaxErrors} are above)",
                Hint = "fix the errors above and check the file again",
            });
        }

        return sorted;
    }
}
