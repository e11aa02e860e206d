namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// Whether a module folder may run as root: the modules folder, the module's folder, its <c>farm.yaml</c>, everything
/// under <c>bin/</c> and each custom checker (with the folders on its way) must be owned by root (or the user farmd
/// runs as) and not writable by group or others. Anyone who can change one of them could run commands as root, or (via
/// farm.yaml) point the data plane at any address.
/// </summary>
internal static class ModuleTrust
{
    /// <summary>Most entries looked at under <c>bin/</c>: a module ships a handful of scripts.</summary>
    public const int MaxEntries = 1000;

    /// <summary>Every problem found, in a stable order; empty when the module may run.</summary>
    public static IReadOnlyList<string> Check(string modulesDirectory, string moduleDirectory, ModuleConfig module, IFileInspector files)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(files);
        var problems = new List<string>();
        uint self = files.EffectiveUid;

        void Require(string path, bool required)
        {
            FileFacts? facts;
            try
            {
                facts = files.Inspect(path);
            }
            catch (IOException ex)
            {
                problems.Add(ex.Message);
                return;
            }

            if (facts is null)
            {
                if (required)
                {
                    problems.Add($"{path} does not exist");
                }

                return;
            }

            if (FileTrust.TrustedFileProblem(facts.Value, self) is { } problem)
            {
                problems.Add(problem);
            }
        }

        Require(modulesDirectory, required: true);
        Require(moduleDirectory, required: true);
        Require(Path.Combine(moduleDirectory, "farm.yaml"), required: true);
        string bin = Path.Combine(moduleDirectory, "bin");
        Require(bin, required: false);
        if (Directory.Exists(bin))
        {
            try
            {
                foreach (string entry in Directory.EnumerateFileSystemEntries(bin, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                    .Order(StringComparer.Ordinal).Take(MaxEntries))
                {
                    Require(entry, required: false);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add($"cannot list {bin}: {ex.Message}");
            }
        }

        foreach (var checker in module.Checkers.OfType<CustomCheckerConfig>())
        {
            // The folders between the module folder and the checker, then the checker itself (bin/ ones are covered).
            string current = moduleDirectory;
            foreach (string part in checker.Script.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                current = Path.Combine(current, part);
                if (!current.StartsWith(bin + "/", StringComparison.Ordinal))
                {
                    Require(current, required: false);
                }
            }
        }

        return [.. problems.Distinct(StringComparer.Ordinal)];
    }
}
