namespace Farm.Cli.Import;

/// <summary>The outcome of an import: the module folder's files and every warning, or the errors (then no files).</summary>
internal sealed record SafeKitImport(IReadOnlyList<ImportedFile> Files, IReadOnlyList<ImportMessage> Messages)
{
    /// <summary>True when no message is an error; only then <see cref="Files"/> is the module folder.</summary>
    public bool Succeeded => !Messages.Any(m => m.IsError);

    /// <summary>The warnings, in source order.</summary>
    public IEnumerable<ImportMessage> Warnings => Messages.Where(m => !m.IsError);

    /// <summary>The errors, in source order.</summary>
    public IEnumerable<ImportMessage> Errors => Messages.Where(m => m.IsError);
}
