namespace Farm.Cli.Import;

/// <summary>
/// One finding of an import, located in the source file: an error (nothing is written) or a warning (an element or
/// attribute that has no equivalent in Farm, with what to do instead).
/// </summary>
/// <param name="File">The source file as the user named it.</param>
/// <param name="Line">1-based line of the element or attribute.</param>
/// <param name="Column">1-based column.</param>
/// <param name="IsError">True for an error, false for a warning.</param>
/// <param name="Message">What was found, lower case, without a trailing period.</param>
/// <param name="Hint">What to do instead, or null.</param>
internal sealed record ImportMessage(string File, int Line, int Column, bool IsError, string Message, string? Hint)
{
    /// <summary><c>FILE:LINE:COL: error|warning: MESSAGE (hint: HINT)</c>, as <c>farmctl config check</c> prints errors.</summary>
    public override string ToString() =>
        $"{File}:{Line}:{Column}: {(IsError ? "error" : "warning")}: {Message}" + (Hint is null ? "" : $" (hint: {Hint})");
}
