using Farm.Core.Bundles;

namespace Farm.Native.Linux;

/// <summary>
/// Checks an installed module folder against its manifest (<c>bundle.json</c>): every file listed, none added, each
/// hash the same, no symbolic link inside. Used by farmd (install, <c>module list</c>) and <c>farmctl config check DIR</c>.
/// </summary>
internal static class InstalledBundle
{
    /// <summary>Every problem found; empty when <paramref name="folder"/> is exactly what was packed.</summary>
    public static IReadOnlyList<string> Verify(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var problems = new List<string>();
        var manifest = Read(folder, problems, out _);
        if (manifest is null)
        {
            return problems;
        }

        var contents = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        try
        {
            foreach (string path in Directory.EnumerateFileSystemEntries(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Take(ModuleBundle.MaxEntries + 1))
            {
                string relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
                var info = new FileInfo(path);
                if (info.LinkTarget is not null)
                {
                    problems.Add($"{relative}: a symbolic link (bundles hold none)");
                }
                else if (!info.Attributes.HasFlag(FileAttributes.Directory) && relative != BundlePaths.Manifest)
                {
                    contents[relative] = File.ReadAllBytes(path);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot read {folder}: {ex.Message}");
            return problems;
        }

        problems.AddRange(manifest.Verify(contents));
        return problems;
    }

    /// <summary>The manifest of <paramref name="folder"/> and its bytes, or null with the problems added.</summary>
    public static BundleManifest? Read(string folder, List<string> problems, out byte[]? bytes)
    {
        ArgumentNullException.ThrowIfNull(problems);
        string path = Path.Combine(folder, BundlePaths.Manifest);
        bytes = null;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{path}: {(ex is FileNotFoundException ? "missing (this folder was not installed from a bundle)" : ex.Message)}");
            return null;
        }

        return BundleManifest.Parse(bytes, path, problems);
    }
}
