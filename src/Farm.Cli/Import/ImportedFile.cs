namespace Farm.Cli.Import;

/// <summary>One file of an imported module folder.</summary>
/// <param name="Path">Relative to the module folder, with '/' separators (e.g. <c>bin/start_both</c>).</param>
/// <param name="Content">The file's bytes.</param>
/// <param name="Executable">True for scripts: written with mode 0755 instead of 0644.</param>
internal sealed record ImportedFile(string Path, byte[] Content, bool Executable);
