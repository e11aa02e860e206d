namespace Farm.Core.Config;

/// <summary>Collects located errors for one file; binders append and go on, they never stop at the first error.</summary>
internal sealed class ConfigDiagnostics(string file)
{
    private readonly List<ConfigError> errors = [];

    public string File { get; } = file;

    public IReadOnlyList<ConfigError> Errors => errors;

    public int Count => errors.Count;

    public void Add(int line, int column, string message, string? hint) =>
        errors.Add(new ConfigError(File, line, column, message, hint));

    public void Add(YamlNodeBase at, string message, string? hint) => Add(at.Line, at.Column, message, hint);

    /// <summary>Errors in file order, so a reader can walk the file top to bottom; stable for equal positions.</summary>
    public IReadOnlyList<ConfigError> Sorted() =>
        [.. errors.Select((e, i) => (e, i)).OrderBy(x => x.e.Line).ThenBy(x => x.e.Column).ThenBy(x => x.i).Select(x => x.e)];
}
