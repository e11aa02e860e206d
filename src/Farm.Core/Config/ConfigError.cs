namespace Farm.Core.Config;

/// <summary>One problem found in a configuration file, located at a 1-based line and column, with a hint on how to fix it.</summary>
/// <param name="File">The file name as given by the caller (used in messages only).</param>
/// <param name="Line">1-based line of the offending key or value.</param>
/// <param name="Column">1-based column of the offending key or value.</param>
/// <param name="Message">What is wrong, lower case, without a trailing period.</param>
/// <param name="Hint">How to fix it, or null when the message says it all.</param>
public sealed record ConfigError(string File, int Line, int Column, string Message, string? Hint)
{
    /// <summary>Formats the error as <c>FILE:LINE:COL: error: MESSAGE (hint: HINT)</c>, the shape compilers use so editors can jump to it.</summary>
    public override string ToString() =>
        Hint is null
            ? $"{File}:{Line}:{Column}: error: {Message}"
            : $"{File}:{Line}:{Column}: error: {Message} (hint: {Hint})";
}
