using Farm.Core.Bundles;
using Farm.Native.Linux;

namespace Farm.Cli.Bundles;

/// <summary>
/// The work behind <c>farmctl module pack</c>: reads a module folder (regular files only; a symbolic link or a file the
/// bundle cannot hold is an error), checks its farm.yaml, and writes the bundle. An installed folder's own
/// <c>bundle.json</c> is left out (the new bundle gets a new one).
/// </summary>
internal static class BundlePacker
{
    /// <summary>The release of this farmctl, the default lower bound of a bundle's Farm range.</summary>
    public static Version Release { get; } = FarmVersionRange.ReleaseOf(typeof(BundlePacker).Assembly.GetName().Version ?? new Version(0, 0));

    /// <summary>The default output file of a bundle.</summary>
    public static string DefaultFileName(string name, string version) => $"{name}-{version}.farm.zip";

    /// <summary>Packs <paramref name="folder"/> into <paramref name="output"/>; the manifest, or null and every problem found.</summary>
    public static (BundleManifest? Manifest, IReadOnlyList<string> Problems) Pack(string folder, string version, FarmVersionRange farm, Stream output)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var problems = new List<string>();
        if (!BundleManifest.IsValidVersion(version))
        {
            problems.Add($"--version '{version}' is not a version such as 1.2.0 or 1.2.0-rc1");
        }

        if (!Directory.Exists(folder))
        {
            return (null, [.. problems, $"{folder}: no such folder (pass the module's folder, the one holding farm.yaml)"]);
        }

        var files = new List<BundleFile>();
        foreach (string path in Directory.EnumerateFileSystemEntries(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Order(StringComparer.Ordinal).Take(ModuleBundle.MaxEntries + 1))
        {
            string relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target)
            {
                problems.Add($"{path}: a symbolic link (to {target}): a bundle holds regular files only; copy the file in instead");
            }
            else if (info.Attributes.HasFlag(FileAttributes.Directory) || relative == BundlePaths.Manifest)
            {
                continue;
            }
            else if (BundlePaths.Problem(relative) is { } problem)
            {
                problems.Add($"{path}: {problem}");
            }
            else
            {
                int mode = OperatingSystem.IsWindows() ? (relative.StartsWith("bin/", StringComparison.Ordinal) ? 0b111_101_101 : 0b110_100_100) : (int)File.GetUnixFileMode(path);
                files.Add(new BundleFile(relative, File.ReadAllBytes(path), mode));
            }
        }

        if (files.Count > ModuleBundle.MaxEntries)
        {
            problems.Add($"{folder}: more than {ModuleBundle.MaxEntries} files: a bundle holds the module (farm.yaml, scripts, checkers), not the application");
        }

        var yaml = files.Find(f => f.Path == "farm.yaml");
        ModuleConfig? module = null;
        if (yaml is null)
        {
            problems.Add($"{folder}: no farm.yaml: pass the module's folder, the one holding farm.yaml");
        }
        else
        {
            var parsed = ConfigParser.ParseModule(Encoding.UTF8.GetString(yaml.Content.Span), Path.Combine(folder, "farm.yaml"));
            problems.AddRange(parsed.Errors.Select(e => e.ToString()));
            module = parsed.Value;
        }

        if (problems.Count > 0 || module is null)
        {
            return (null, problems);
        }

        return (ModuleBundle.Write(output, module.Name, version, farm, files), []);
    }

    /// <summary>Reads a bundle file for <c>config check</c> and <c>module install</c>: the verified bundle, or null and every problem.</summary>
    public static (ModuleBundle? Bundle, IReadOnlyList<string> Problems) Open(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            return ModuleBundle.Read(stream, file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, [$"{file}: cannot read: {ex.Message}"]);
        }
    }

    /// <summary>True when <paramref name="file"/> looks like a bundle (a zip: "PK" first) rather than a YAML file.</summary>
    public static bool IsBundle(string file)
    {
        try
        {
            using var stream = File.OpenRead(file);
            Span<byte> head = stackalloc byte[2];
            return stream.Read(head) == 2 && head[0] == (byte)'P' && head[1] == (byte)'K';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary><c>config check</c> of an installed module folder (one holding bundle.json): its manifest against its files, then its farm.yaml.</summary>
    public static IReadOnlyList<string> VerifyInstalled(string folder) => InstalledBundle.Verify(folder);
}
