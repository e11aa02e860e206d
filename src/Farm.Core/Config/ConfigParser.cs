namespace Farm.Core.Config;

/// <summary>
/// Parses and validates configuration files from text. Pure: the caller reads the file and passes its
/// name, which only appears in the errors.
/// </summary>
public static class ConfigParser
{
    private const string ClusterKey = "cluster";
    private const string ModuleKey = "module";

    /// <summary>Parses a cluster file (top-level key <c>cluster:</c>), collecting every error; a <c>key_file</c> is an error (no reader).</summary>
    public static ConfigResult<ClusterConfig> ParseCluster(string text, string fileName) => ParseCluster(text, fileName, null);

    /// <summary>Parses a cluster file, reading its <c>key_file</c>, if any, through <paramref name="keyFiles"/>.</summary>
    public static ConfigResult<ClusterConfig> ParseCluster(string text, string fileName, IKeyFileReader? keyFiles)
    {
        var result = Parse(text, fileName, ConfigFileKind.Cluster, keyFiles);
        return new ConfigResult<ClusterConfig>(result.Cluster, result.Errors);
    }

    /// <summary>Parses a module's farm.yaml (top-level key <c>module:</c>), collecting every error.</summary>
    public static ConfigResult<ModuleConfig> ParseModule(string text, string fileName)
    {
        var result = Parse(text, fileName, ConfigFileKind.Module, null);
        return new ConfigResult<ModuleConfig>(result.Module, result.Errors);
    }

    /// <summary>Parses a file of either kind, telling the kind from its top-level key.</summary>
    public static ConfigFileResult Parse(string text, string fileName) => Parse(text, fileName, ConfigFileKind.Unknown, null);

    /// <summary>Parses a file of either kind; a cluster file's <c>key_file</c> is read through <paramref name="keyFiles"/>.</summary>
    public static ConfigFileResult Parse(string text, string fileName, IKeyFileReader? keyFiles) => Parse(text, fileName, ConfigFileKind.Unknown, keyFiles);

    private static ConfigFileResult Parse(string text, string fileName, ConfigFileKind expected, IKeyFileReader? keyFiles)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var d = new ConfigDiagnostics(fileName);
        var root = YamlTreeReader.Read(text, d);
        if (root is null)
        {
            return new ConfigFileResult(expected, null, null, d.Sorted());
        }

        string[] allowed = expected switch
        {
            ConfigFileKind.Cluster => [ClusterKey],
            ConfigFileKind.Module => [ModuleKey],
            _ => [ClusterKey, ModuleKey],
        };
        string expectation = string.Join(" or ", allowed.Select(k => $"'{k}:'"));
        if (root is not YamlMapNode rootMap || rootMap.Entries.Count == 0)
        {
            d.Add(root, $"the file must start with the top-level key {expectation}", "put all settings under " + expectation);
            return new ConfigFileResult(expected, null, null, d.Sorted());
        }

        // The kind is told by the first top-level key that names one; any other top-level key is an error.
        ConfigFileKind kind = expected;
        YamlMapNode? body = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in rootMap.Entries)
        {
            var keyKind = key.Value switch
            {
                ClusterKey => ConfigFileKind.Cluster,
                ModuleKey => ConfigFileKind.Module,
                _ => ConfigFileKind.Unknown,
            };
            if (keyKind == ConfigFileKind.Unknown || (kind != ConfigFileKind.Unknown && keyKind != kind) || !seen.Add(key.Value))
            {
                string? nearest = KeySuggester.Nearest(key.Value, allowed);
                string message = seen.Contains(key.Value) && keyKind == kind
                    ? $"duplicate top-level key '{key.Value}'"
                    : keyKind != ConfigFileKind.Unknown
                        ? $"top-level key '{key.Value}' does not belong in a {kind.ToString().ToLowerInvariant()} file"
                        : $"unknown top-level key '{key.Value}'";
                string hint = nearest is not null && keyKind == ConfigFileKind.Unknown
                    ? $"did you mean '{nearest}'?"
                    : keyKind != ConfigFileKind.Unknown && keyKind != kind
                        ? "a cluster file and a module's farm.yaml are separate files; keep one top-level key per file"
                        : $"every setting goes under {expectation}";
                d.Add(key, message, hint);
                continue;
            }

            kind = keyKind;
            if (value is YamlMapNode map)
            {
                body = map;
            }
            else
            {
                d.Add(value, $"'{key.Value}' must be a mapping of settings, not {value.Describe()}", $"indent the {key.Value} settings below '{key.Value}:'");
            }
        }

        ClusterConfig? cluster = null;
        ModuleConfig? module = null;
        if (body is not null)
        {
            if (kind == ConfigFileKind.Cluster)
            {
                cluster = ClusterConfigBinder.Bind(body, d, keyFiles);
            }
            else
            {
                module = ModuleConfigBinder.Bind(body, d);
            }
        }

        var errors = d.Sorted();
        return errors.Count == 0
            ? new ConfigFileResult(kind, cluster, module, errors)
            : new ConfigFileResult(kind, null, null, errors);
    }
}
