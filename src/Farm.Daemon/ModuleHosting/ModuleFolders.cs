using Farm.Native.Linux;

namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// Reads the modules folder (farmd's <c>--modules</c>): every sub-folder (or bundle link) holding a <c>farm.yaml</c>, its
/// module parsed and its files checked against the local trust boundary (<see cref="ModuleTrust"/>). One reader for
/// farmd's start (<c>DaemonSettingsLoader</c>) and for <c>farmctl module reload</c> (<see cref="ModuleFolderReload"/>).
/// </summary>
internal static class ModuleFolders
{
    /// <summary>The file a module folder must hold.</summary>
    public const string DefinitionFile = "farm.yaml";

    /// <summary>One module folder.</summary>
    /// <param name="File">Its farm.yaml, as found under the modules folder (through a bundle's link).</param>
    /// <param name="Folder">The folder the module runs from: a bundle's link resolved once to its version's own folder.</param>
    /// <param name="Text">The farm.yaml's text, or null when it could not be read.</param>
    /// <param name="Module">The module, or null when the file does not read or parse.</param>
    /// <param name="Errors">Why not, one line each in farmctl's format (<c>FILE:LINE:COL: error: ...</c>).</param>
    /// <param name="Untrusted">Why the folder is not root's own (its scripts would run as root), or null.</param>
    public sealed record Found(string File, string Folder, string? Text, ModuleConfig? Module, IReadOnlyList<string> Errors, string? Untrusted);

    /// <summary>
    /// Every folder of <paramref name="modulesDirectory"/> holding a farm.yaml, in name order (a folder without one is
    /// not a module, e.g. a backup, and the bundles' <c>.versions</c> holds none). With <paramref name="checkTrust"/>,
    /// a module's files are checked to be root's own.
    /// </summary>
    /// <exception cref="IOException">The modules folder cannot be listed.</exception>
    public static IReadOnlyList<Found> Scan(string modulesDirectory, IFileInspector files, bool checkTrust)
    {
        ArgumentNullException.ThrowIfNull(modulesDirectory);
        ArgumentNullException.ThrowIfNull(files);
        string root = Path.GetFullPath(modulesDirectory);
        var found = new List<Found>();
        foreach (string moduleDir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string file = Path.Combine(moduleDir, DefinitionFile);
            if (!File.Exists(file))
            {
                continue;
            }

            string folder = new DirectoryInfo(moduleDir).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(moduleDir);
            var (text, problem) = Read(file);
            if (text is null)
            {
                found.Add(new Found(file, folder, null, null, [problem!], null));
                continue;
            }

            var parsed = ConfigParser.ParseModule(text, file);
            string? untrusted = null;
            if (parsed.Value is { } module && checkTrust && ModuleTrust.Check(root, Path.GetFullPath(moduleDir), module, files) is { Count: > 0 } problems)
            {
                untrusted = "its files are not root's own: " + string.Join("; ", problems);
            }

            found.Add(new Found(file, folder, text, parsed.Value, [.. parsed.Errors.Select(e => e.ToString())], untrusted));
        }

        return found;
    }

    /// <summary>A configuration file's text, or null and the problem as one error line naming the file.</summary>
    public static (string? Text, string? Problem) Read(string file)
    {
        try
        {
            return (ConfigFileText.Read(file), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string problem = ex switch
            {
                FileNotFoundException or DirectoryNotFoundException => "file not found (hint: check the path)",
                UnauthorizedAccessException => "permission denied (hint: run as a user who may read the file)",
                _ => "cannot read the file: " + ex.Message,
            };
            return (null, $"{file}:1:1: error: {problem}");
        }
    }
}
