namespace Farm.Core.Bundles;

/// <summary>One file of a module bundle.</summary>
/// <param name="Path">Relative path with '/' separators (e.g. <c>bin/start_both</c>).</param>
/// <param name="Content">The file's bytes.</param>
/// <param name="Mode">Unix permission bits (e.g. 0755 for a script); never writable by group or others.</param>
public sealed record BundleFile(string Path, ReadOnlyMemory<byte> Content, int Mode);
