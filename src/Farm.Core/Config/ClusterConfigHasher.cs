using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Farm.Core.Config;

/// <summary>
/// The canonical serialization behind <see cref="ClusterConfig.ComputeHash"/>: one <c>path=value</c> line per
/// setting in a fixed order, durations in milliseconds, addresses in their canonical text form, nodes sorted by name.
/// </summary>
/// <remarks>
/// Every setting that every node must agree on is in it, defaults included, so two nodes that spell the same
/// configuration differently agree and two that differ in anything (a LAN, a timeout, a priority) do not. Node weights
/// and the file's <c>version</c> are not: each node announces its own weight from its own file, and both change live
/// (<c>farmctl config apply</c>, SIGHUP). <see cref="ClusterConfigDiff"/> compares the same lines, so "the hash is
/// equal" and "only weights and version differ" are one rule. The format line lets a later layout never collide with
/// this one.
/// </remarks>
internal static class ClusterConfigHasher
{
    private const string FormatVersion = "farm-cluster-config/2";

    public static string Compute(ClusterConfig config)
    {
        // The same bytes as Canonical: one "path=value\n" per line (ModuleConfigHasher hashes module lines alike).
        return ModuleConfigHasher.Hash(Lines(config).Select(l => l.Key + "=" + l.Value));
    }

    public static string Canonical(ClusterConfig config)
    {
        var b = new StringBuilder();
        foreach (var (path, value) in Lines(config))
        {
            b.Append(path).Append('=').Append(value).Append('\n');
        }

        return b.ToString();
    }

    /// <summary>The canonical settings in hash order: a path (e.g. <c>node.a.addresses</c>) and its canonical value.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Lines(ClusterConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var lines = new List<KeyValuePair<string, string>>();
        void Line(string path, string value) => lines.Add(new(path, value));
        static string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

        Line("format", FormatVersion);
        Line("name", config.Name);
        // The secret itself never leaves the process; equal keys still give equal hashes.
        Line("key_sha256", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(config.Key))));
        Line("grpc_port", Int(config.GrpcPort));
        Line("console_port", Int(config.ConsolePort));
        Line("heartbeat.interval_ms", Ms(config.Heartbeat.Interval));
        Line("heartbeat.detection_timeout_ms", Ms(config.Heartbeat.DetectionTimeout));
        Line("heartbeat.lease_ms", Ms(config.Heartbeat.Lease));
        Line("split_brain.policy", config.SplitBrain.Policy.ToString().ToLowerInvariant());
        Line("split_brain.witness", config.SplitBrain.Witness?.ToString() ?? "-");
        if (config.Tls is not null)
        {
            // Only when on, so files without TLS keep the hash they had. Paths may differ per node: not hashed.
            Line("tls", "on");
        }

        Line("lans", string.Join(',', config.Lans));
        foreach (var node in config.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            string p = "node." + node.Name;
            Line(p + ".addresses", string.Join(',', node.Addresses.Select(a => a.ToString())));
            Line(p + ".priority", Int(node.Priority));
        }

        return lines;
    }
}
