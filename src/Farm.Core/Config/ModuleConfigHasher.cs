using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Farm.Core.Config;

/// <summary>
/// The canonical settings of a module that every node must agree on, one <c>path=value</c> line each in a fixed order,
/// and their hash (<see cref="ModuleConfig.ComputeHash"/>): the settings that decide which node answers which client.
/// </summary>
/// <remarks>
/// In it: <c>mode</c>, <c>failback</c>, <c>buckets</c>, <c>seed</c>, <c>vips</c> (sorted, canonical text) and every rule
/// (protocol, ports, affinity; sorted). Not in it: what may differ per node without changing who answers a client: the
/// <c>interface</c> and <c>vmac_mode</c> (per machine), <c>arp</c>, <c>timeouts</c>, <c>scripts</c>, <c>checkers</c>
/// and <c>recovery</c>, and the scripts' and checkers' text. Nodes announce these lines with the hash, so a node can
/// name the settings that differ (<see cref="DifferingSettings"/>), as <see cref="ClusterConfigDiff"/> does for the
/// cluster file.
/// </remarks>
public static class ModuleConfigHasher
{
    private const string FormatVersion = "farm-module-config/1";

    /// <summary>The canonical lines of <paramref name="module"/>, e.g. <c>seed=1684107885</c>, <c>rule=tcp:80-80:client_ip</c>.</summary>
    public static IReadOnlyList<string> Lines(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);
        var lines = new List<string>
        {
            "format=" + FormatVersion,
            "name=" + module.Name,
            "mode=" + module.Mode.ToString().ToLowerInvariant(),
            "failback=" + (module.Failback ? "true" : "false"),
            "buckets=" + Int(module.Buckets),
            "seed=" + Int(module.Seed),
            "vips=" + string.Join(',', module.Vips.Select(v => v.ToString()).Order(StringComparer.Ordinal)),
        };
        lines.AddRange(module.Rules
            .Select(r => $"rule={r.Protocol.ToString().ToLowerInvariant()}:{Int(r.FirstPort)}-{Int(r.LastPort)}:{AffinityName(r.Affinity)}")
            .Order(StringComparer.Ordinal));
        return lines;
    }

    /// <summary>The hash of canonical lines (lower-case hex SHA-256 of the lines, each ended by a newline).</summary>
    public static string Hash(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var b = new StringBuilder();
        foreach (var line in lines)
        {
            b.Append(line).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(b.ToString())));
    }

    /// <summary>
    /// The settings (as <c>farm.yaml</c> names them: <c>seed</c>, <c>buckets</c>, <c>vips</c>, <c>rules</c>...) whose
    /// lines differ between <paramref name="ours"/> and <paramref name="theirs"/>, in line order, each once.
    /// </summary>
    public static IReadOnlyList<string> DifferingSettings(IReadOnlyList<string> ours, IReadOnlyList<string> theirs)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(theirs);
        var keys = new List<string>();
        foreach (var (line, other) in new[] { (ours, theirs), (theirs, ours) })
        {
            var set = other.ToHashSet(StringComparer.Ordinal);
            foreach (var l in line.Where(l => !set.Contains(l)))
            {
                string key = SettingOf(l);
                if (!keys.Contains(key, StringComparer.Ordinal))
                {
                    keys.Add(key);
                }
            }
        }

        return keys;
    }

    private static string SettingOf(string line)
    {
        int eq = line.IndexOf('=', StringComparison.Ordinal);
        string path = eq < 0 ? line : line[..eq];
        return path == "rule" ? "rules" : path;
    }

    private static string AffinityName(Farm.Core.Hashing.Affinity affinity) =>
        affinity == Farm.Core.Hashing.Affinity.ClientIp ? "client_ip" : "client_ip_port";
}
