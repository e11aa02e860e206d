using Farm.Core.Text;
using Farm.DataPlane.Addressing;

namespace Farm.Fuzz.Tests.Config;

/// <summary>
/// Cluster files and module <c>farm.yaml</c> files: the parser never throws, stays within its time and memory bounds,
/// reports every error located, with a hint, printable and short; and a module file it accepts is one the data plane
/// accepts too (the nft ruleset builds).
/// </summary>
internal static class ConfigFuzzTargets
{
    /// <summary>The key every fuzzed key_file holds: it must never appear in a message.</summary>
    internal const string Secret = "fuzz-secret-0123456789";

    private static readonly IReadOnlyList<byte[]> YamlTokens =
    [
        .. new[]
        {
            "[", "]", "{", "}", ": ", "- ", "\n", "\n  ", "\n    - ", "&a ", "*a", "&b ", "*b", "? ", "!!str ", "!!int ", "!!map ", "'", "\"", "#", "|\n", ">\n", "---\n", "...\n",
            "<<: ", "~", "null", "true", "0x", "99999999999999999999", "256204779h", "-1", "ms", "s", "h", "198.18.0.1", "\"2001:db8::1\"", "\"fe80::1\"",
            "eth0", "\\e[2J", "\\u202e", "\t", "%YAML 1.2\n", "%TAG ! tag:x:\n", "@", "`", "key_file: k\n", "key: 0123456789abcdef\n",
            "name", "key", "key_file", "version", "grpc_port", "console_port", "heartbeat", "interval", "detection_timeout", "lease", "split_brain", "policy",
            "witness", "lans", "nodes", "addresses", "weight", "priority", "module", "vips", "interface", "mode", "failback", "buckets", "seed", "rules",
            "protocol", "ports", "affinity", "vmac_mode", "arp", "timeouts", "scripts", "checkers", "recovery", "maxloop", "loop_interval", "type", "url",
            "regex", "process", "script", "min", "max", "expect_status", "when", "action",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    /// <summary>The cluster file target: both parse entry points, with a key file reader.</summary>
    internal static FuzzTarget ClusterTarget { get; } = new()
    {
        Name = "cluster",
        Run = input =>
        {
            string text = Encoding.UTF8.GetString(input);
            var result = ConfigParser.ParseCluster(text, "fuzz.yaml", new KeyReader());
            CheckErrors(result.Errors, result.Succeeded, result.Value is not null);
            var either = ConfigParser.Parse(text, "fuzz.yaml");
            CheckErrors(either.Errors, either.Errors.Count == 0, either.Cluster is not null || either.Module is not null);
            if (result.Value is { } cluster)
            {
                _ = cluster.ComputeHash();
                Require(!cluster.ToString().Contains(Secret, StringComparison.Ordinal), "the record printer shows the key");
            }

            return result.Succeeded;
        },
        MaxLength = 64 * 1024,
        TimeBound = TimeSpan.FromSeconds(1),
        // The tree, the error strings and YamlDotNet's buffers: measured well under this for 64 KB inputs.
        AllocationBound = length => 8_000_000 + (400L * length),
        Dictionary = YamlTokens,
        Generate = random => Encoding.UTF8.GetBytes(new YamlGenerator(random).Cluster()),
        ShallowHint = "the generator should produce valid files now and then; otherwise the fuzzer only scratches the surface",
    };

    /// <summary>The module file target: a file that passes must also build its nft ruleset and virtual MACs.</summary>
    internal static FuzzTarget ModuleTarget { get; } = ClusterTarget with
    {
        Name = "module",
        Run = input =>
        {
            string text = Encoding.UTF8.GetString(input);
            var result = ConfigParser.ParseModule(text, "fuzz.yaml");
            CheckErrors(result.Errors, result.Succeeded, result.Value is not null);
            if (result.Value is { } module)
            {
                // What the data plane would do with it first; 'config check' must have refused anything that throws here.
                _ = new NftRuleset(module).Install();
                foreach (var vip in module.Vips)
                {
                    _ = VirtualMac.For(vip);
                }
            }

            return result.Succeeded;
        },
        Generate = random => Encoding.UTF8.GetBytes(new YamlGenerator(random).Module()),
    };

    private static void CheckErrors(IReadOnlyList<ConfigError> errors, bool succeeded, bool hasValue)
    {
        Require(succeeded == (errors.Count == 0) && hasValue == succeeded, $"succeeded {succeeded} with {errors.Count} error(s) and a value: {hasValue}");
        Require(errors.Count <= ConfigLimits.MaxErrors + 1, $"{errors.Count} errors, more than the limit");
        foreach (var error in errors)
        {
            Require(error.Line >= 1 && error.Column >= 1, "unlocated error: " + error);
            Require(!string.IsNullOrWhiteSpace(error.Hint), "error without a hint: " + error);
            Require(error.Message.Length <= 500 && error.Hint!.Length <= 500, "overlong message: " + error.Message[..Math.Min(200, error.Message.Length)]);
            Require(PrintableText.IsSafe(error.ToString()), "a control character reaches the terminal: " + PrintableText.Neutralize(error.ToString()));
            Require(!error.ToString().Contains(Secret, StringComparison.Ordinal), "the key is echoed: " + error);
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(message);
        }
    }

    /// <summary>Every key file holds <see cref="Secret"/>, except paths naming a problem.</summary>
    private sealed class KeyReader : IKeyFileReader
    {
        public string Read(string path) => path.Contains("missing", StringComparison.Ordinal)
            ? throw new FileNotFoundException("no such file", path)
            : path.Contains("short", StringComparison.Ordinal) ? "short" : Secret + "\n";
    }
}
