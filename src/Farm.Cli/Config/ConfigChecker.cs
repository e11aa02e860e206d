using Farm.Core.Security;
using Farm.Native.Linux;

namespace Farm.Cli.Config;

/// <summary>
/// The work behind <c>farmctl config check</c> and <c>farmctl config hash</c>, with file reading injected for tests. A
/// cluster file's <c>key_file</c> is read (relative to the cluster file), and what would make farmd refuse the key's
/// file (readable by others, not root's own) is printed as a warning after the file's OK line.
/// </summary>
internal static class ConfigChecker
{
    /// <summary>Checks every file, prints each error (or one summary line per valid file), and returns the exit code.</summary>
    public static int Check(IReadOnlyList<string> files, TextWriter output, Func<string, string> readFile, IFileInspector? inspector = null)
    {
        inspector ??= StatxFileInspector.Instance;
        int errorCount = 0;
        int badFiles = 0;
        (string, ClusterConfig)? firstCluster = null;
        var modules = new List<(string, ModuleConfig)>();
        foreach (string file in files)
        {
            var result = Load(file, readFile, inspector);
            if (result.Succeeded)
            {
                output.WriteLine($"{file}: OK — {Summary(result)}");
                if (result.Module is { } module)
                {
                    modules.Add((file, module));
                }
                else if (result.Cluster is { } parsed)
                {
                    firstCluster ??= (file, parsed);
                }

                if (result.Cluster is { } cluster && !OperatingSystem.IsWindows())
                {
                    foreach (string problem in ClusterKeyTrust.Problems(file, cluster, KeyFileReader.For(file, inspector), inspector))
                    {
                        output.WriteLine($"{file}: warning: farmd refuses to start with this file: {problem}");
                    }
                }

                continue;
            }

            badFiles++;
            errorCount += result.Errors.Count;
            foreach (var error in result.Errors)
            {
                output.WriteLine(error.ToString());
            }
        }

        // What only shows between files: the data plane binds each VIP once per node.
        var cross = ConfigCrossCheck.Check(firstCluster, modules);
        foreach (var error in cross)
        {
            output.WriteLine(error.ToString());
        }

        errorCount += cross.Count;
        badFiles += cross.Select(e => e.File).Distinct(StringComparer.Ordinal).Count();
        if (errorCount == 0)
        {
            return CliApp.ExitOk;
        }

        output.WriteLine($"{Plural(errorCount, "error")} in {Plural(badFiles, "file")}");
        return CliApp.ExitFailed;
    }

    /// <summary>Prints the canonical hash of a valid cluster file, or its errors.</summary>
    public static int Hash(string file, TextWriter output, Func<string, string> readFile, IFileInspector? inspector = null)
    {
        var result = Load(file, readFile, inspector ?? StatxFileInspector.Instance);
        if (result.Succeeded && result.Cluster is { } cluster)
        {
            output.WriteLine(cluster.ComputeHash());
            return CliApp.ExitOk;
        }

        var errors = result.Succeeded
            ? [new ConfigError(file, 1, 1, "this is a module file; only a cluster file has a configuration hash", "pass the cluster file (top-level key 'cluster:')")]
            : result.Errors;
        foreach (var error in errors)
        {
            output.WriteLine(error.ToString());
        }

        return CliApp.ExitFailed;
    }

    private static ConfigFileResult Load(string file, Func<string, string> readFile, IFileInspector inspector)
    {
        string text;
        try
        {
            // A directory reads as "access denied" on Linux, which would send the admin chasing permissions.
            if (Directory.Exists(file) && File.Exists(Path.Combine(file, Farm.Core.Bundles.BundlePaths.Manifest)))
            {
                return Bundle(file, Bundles.BundlePacker.VerifyInstalled(file), () => Load(Path.Combine(file, "farm.yaml"), readFile, inspector));
            }

            if (Directory.Exists(file))
            {
                return Unreadable(file, "is a directory, not a file", "pass the configuration file itself, e.g. modules/web/farm.yaml, or an installed bundle's folder (with bundle.json)");
            }

            if (Bundles.BundlePacker.IsBundle(file))
            {
                var (bundle, problems) = Bundles.BundlePacker.Open(file);
                return bundle is null ? Bundle(file, problems, () => throw new InvalidOperationException())
                    : new ConfigFileResult(ConfigFileKind.Module, null, bundle.Module, []);
            }

            text = readFile(file);
        }
        catch (FileNotFoundException)
        {
            return Unreadable(file, "file not found", "check the path");
        }
        catch (DirectoryNotFoundException)
        {
            return Unreadable(file, "file not found (no such directory)", "check the path");
        }
        catch (UnauthorizedAccessException)
        {
            return Unreadable(file, "permission denied", "run as a user who may read the file, or fix its permissions");
        }
        catch (IOException ex)
        {
            return Unreadable(file, "cannot read the file: " + ex.Message, "check the file and the disk");
        }

        return ConfigParser.Parse(text, file, KeyFileReader.For(file, inspector));
    }

    /// <summary>A bundle's problems as errors located at the bundle, or (none) what <paramref name="load"/> finds in its farm.yaml.</summary>
    private static ConfigFileResult Bundle(string file, IReadOnlyList<string> problems, Func<ConfigFileResult> load) => problems.Count == 0
        ? load()
        : new(ConfigFileKind.Unknown, null, null, [.. problems.Select(p => new ConfigError(file, 1, 1, p.StartsWith(file + ": ", StringComparison.Ordinal) ? p[(file.Length + 2)..] : p, "pack the module again with farmctl module pack, or install the bundle again"))]);

    private static ConfigFileResult Unreadable(string file, string message, string hint) =>
        new(ConfigFileKind.Unknown, null, null, [new ConfigError(file, 1, 1, message, hint)]);

    private static string Summary(ConfigFileResult result)
    {
        if (result.Cluster is { } c)
        {
            return $"cluster '{c.Name}', {Plural(c.Nodes.Count, "node")}, {Plural(c.Lans.Count, "LAN")}, split-brain {c.SplitBrain.Policy.ToString().ToLowerInvariant()}";
        }

        var m = result.Module!;
        return $"module '{m.Name}', {m.Mode.ToString().ToLowerInvariant()}, {Plural(m.Vips.Count, "VIP")}, {Plural(m.Rules.Count, "rule")}, {Plural(m.Checkers.Count, "checker")}, {m.Buckets} buckets";
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
