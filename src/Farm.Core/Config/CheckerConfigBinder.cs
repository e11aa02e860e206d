using System.Text.RegularExpressions;

namespace Farm.Core.Config;

/// <summary>Maps <c>module.checkers</c> to <see cref="CheckerConfig"/> records, checking type-specific fields against the type.</summary>
internal static class CheckerConfigBinder
{
    private static readonly string[] CommonKeys = ["name", "type", "interval", "timeout", "when", "action"];

    private static readonly Dictionary<CheckerType, string[]> SpecificKeys = new()
    {
        [CheckerType.Tcp] = ["address", "port"],
        [CheckerType.Http] = ["url", "expect_status", "expect_body"],
        [CheckerType.Process] = ["process", "regex", "min", "max"],
        [CheckerType.Custom] = ["script"],
        [CheckerType.Interface] = ["interface"],
        [CheckerType.Ping] = ["address"],
    };

    private static readonly (string, CheckerType)[] Types =
        [("tcp", CheckerType.Tcp), ("http", CheckerType.Http), ("process", CheckerType.Process), ("custom", CheckerType.Custom), ("interface", CheckerType.Interface), ("ping", CheckerType.Ping)];

    private static readonly (string, CheckerWhen)[] Whens = [("always", CheckerWhen.Always), ("before_start", CheckerWhen.BeforeStart)];

    private static readonly (string, CheckerAction)[] Actions =
        [("restart", CheckerAction.Restart), ("stopstart", CheckerAction.StopStart), ("stop", CheckerAction.Stop), ("wait", CheckerAction.Wait)];

    public static List<CheckerConfig> BindAll(MappingReader parent, ConfigDiagnostics d)
    {
        var checkers = new List<CheckerConfig>();
        if (parent.List("checkers") is not { } list)
        {
            return checkers;
        }

        if (list.Items.Count > ConfigLimits.MaxCheckers)
        {
            d.Add(list.Items[ConfigLimits.MaxCheckers], $"the module has {list.Items.Count} checkers, more than {ConfigLimits.MaxCheckers}", $"keep at most {ConfigLimits.MaxCheckers} checkers per module");
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Math.Min(list.Items.Count, ConfigLimits.MaxCheckers); i++)
        {
            var item = list.Items[i];
            if (item is not YamlMapNode map)
            {
                d.Add(item, $"checker #{i + 1} must be a mapping, not {item.Describe()}", "write '- name: web' with 'type:' and its fields below it");
                continue;
            }

            if (Bind(map, i, d, names) is { } checker)
            {
                checkers.Add(checker);
            }
        }

        return checkers;
    }

    private static CheckerConfig? Bind(YamlMapNode map, int index, ConfigDiagnostics d, Dictionary<string, int> names)
    {
        string? rawName = (map.Entries.FirstOrDefault(e => e.Key.Value == "name").Value as YamlScalarNode) is { IsNull: false } n ? n.Value : null;
        string? rawType = (map.Entries.FirstOrDefault(e => e.Key.Value == "type").Value as YamlScalarNode)?.Value;
        CheckerType? known = Types.Where(t => t.Item1 == rawType).Select(t => (CheckerType?)t.Item2).FirstOrDefault();
        string where = rawName is not null ? $"checker '{rawName}'" : $"checker #{index + 1}";

        // Until the type is known every type-specific key is plausible; afterwards a field of another type is a mistake worth naming.
        string[] valid = known is { } kt
            ? [.. CommonKeys, .. SpecificKeys[kt]]
            : [.. CommonKeys, .. SpecificKeys.Values.SelectMany(k => k).Distinct()];
        var r = new MappingReader(d, map, where, valid, key =>
        {
            var owners = SpecificKeys.Where(kv => kv.Value.Contains(key)).Select(kv => kv.Key.ToString().ToLowerInvariant()).ToList();
            return owners.Count == 0
                ? null
                : ($"'{key}' is not a field of {rawType} checkers ({where})", $"'{key}' belongs to {string.Join(" and ", owners)} checkers; remove it or change 'type'");
        });

        string name = "";
        if (r.Scalar("name", required: true, example: "web") is { } nameNode)
        {
            name = ConfigValues.CheckName(d, nameNode, "checker name");
            if (!names.TryAdd(name, nameNode.Line))
            {
                d.Add(nameNode, $"duplicate checker name '{name}' (first at line {names[name]})", "give each checker a unique name");
            }
        }

        if (!r.Has("type"))
        {
            r.Missing("type", "tcp");
        }

        var type = r.Choice("type", CheckerType.Tcp, Types);
        var interval = r.Duration("interval", CheckerConfig.DefaultInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        var timeout = r.Duration("timeout", CheckerConfig.DefaultTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        if (timeout >= interval)
        {
            d.Add(
                r.Has("timeout") ? r.Node("timeout")! : r.Node("interval")!,
                $"timeout {ConfigDuration.Format(timeout)} of {where} is not less than its interval {ConfigDuration.Format(interval)}",
                "a check must end before the next one starts: lower timeout or raise interval");
        }

        var when = r.Choice("when", CheckerWhen.Always, Whens);
        var action = r.Choice("action", CheckerAction.Restart, Actions);
        if (known is null)
        {
            return null; // the type error is already reported; type-specific checks would only guess
        }

        CheckerConfig checker = type switch
        {
            CheckerType.Tcp => new TcpCheckerConfig { Name = name, Address = Host(r, d, "127.0.0.1"), Port = r.Has("port") ? r.Int("port", 0, 1, 65535) : MissingPort(r) },
            CheckerType.Http => BindHttp(r, d, name),
            CheckerType.Process => BindProcess(r, d, name),
            CheckerType.Custom => new CustomCheckerConfig { Name = name, Script = Script(r, d) },
            CheckerType.Interface => new InterfaceCheckerConfig { Name = name, Interface = r.Scalar("interface", required: true, example: "eth0") is { } s ? ModuleConfigBinder.CheckInterface(d, s) : "" },
            _ => new PingCheckerConfig { Name = name, Address = Host(r, d, "198.18.0.254") },
        };
        return checker with { Interval = interval, Timeout = timeout, When = when, Action = action };
    }

    private static int MissingPort(MappingReader r)
    {
        r.Missing("port", "80");
        return 0;
    }

    private static string Host(MappingReader r, ConfigDiagnostics d, string example)
    {
        if (r.Scalar("address", required: true, example: example) is not { } scalar)
        {
            return "";
        }

        if (Uri.CheckHostName(scalar.Value) == UriHostNameType.Unknown)
        {
            d.Add(scalar, $"address '{scalar.Value}' in {r.Where} is neither an IP address nor a host name", $"write an IP address or a host name, e.g. {example}");
        }

        return scalar.Value;
    }

    private static HttpCheckerConfig BindHttp(MappingReader r, ConfigDiagnostics d, string name)
    {
        Uri url = new("http://127.0.0.1/");
        if (r.Scalar("url", required: true, example: "http://127.0.0.1:80/health") is { } scalar)
        {
            if (Uri.TryCreate(scalar.Value, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
            {
                url = parsed;
            }
            else
            {
                d.Add(scalar, $"url '{scalar.Value}' in {r.Where} is not an absolute http:// or https:// URL", "write e.g. http://127.0.0.1:8080/health");
            }
        }

        return new HttpCheckerConfig
        {
            Name = name,
            Url = url,
            ExpectStatus = r.Int("expect_status", HttpCheckerConfig.DefaultExpectStatus, 100, 599),
            ExpectBody = r.String("expect_body"),
        };
    }

    private static ProcessCheckerConfig BindProcess(MappingReader r, ConfigDiagnostics d, string name)
    {
        string? process = r.String("process");
        string? regex = r.String("regex");
        if (r.Has("process") == r.Has("regex"))
        {
            d.Add(r.Has("regex") ? r.KeyNode("regex") : r.Map, $"{r.Where} needs exactly one of 'process' and 'regex'", "give the exact process name with 'process:' or a pattern with 'regex:'");
        }

        if (regex is not null)
        {
            try
            {
                _ = new Regex(regex, RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                d.Add(r.Node("regex")!, $"regex of {r.Where} is invalid: {ex.Message}", "fix the regular expression (.NET syntax); quote it with single quotes to keep backslashes");
            }
        }

        int min = r.Int("min", ProcessCheckerConfig.DefaultMin, 0, 10_000);
        int? max = r.Has("max") ? r.Int("max", 10_000, 0, 10_000) : null;
        if (max < min)
        {
            d.Add(r.Node("max")!, $"max {max} of {r.Where} is less than min {min}", "set max to at least min, or remove max");
        }

        return new ProcessCheckerConfig { Name = name, ProcessName = process, Regex = regex, Min = min, Max = max };
    }

    private static string Script(MappingReader r, ConfigDiagnostics d)
    {
        if (r.Scalar("script", required: true, example: "bin/check") is not { } scalar)
        {
            return "";
        }

        string path = scalar.Value;
        // The daemon runs the script as root from the module folder; it must not reach outside it.
        bool rooted = path.StartsWith('/') || path.StartsWith('\\') || (path.Length >= 2 && path[1] == ':');
        bool escapes = path.Replace('\\', '/').Split('/').Contains("..");
        if (rooted || escapes || path.Contains('\\', StringComparison.Ordinal) || path.Trim().Length == 0)
        {
            d.Add(scalar, $"script '{path}' of {r.Where} must be a relative path inside the module folder", "write a path relative to the module folder with '/' separators and no '..', e.g. bin/check_db");
        }

        return path;
    }
}
