using Farm.Core.Config;
using Farm.Core.Hashing;

namespace Farm.Testing.Farmd;

/// <summary>
/// Writes cluster files and module <c>farm.yaml</c> files from the same records the parser produces, so a test states
/// its configuration in C# and farmd reads exactly that. Every file written is parsed back and checked.
/// </summary>
public static class FarmConfigFiles
{
    /// <summary>Writes <paramref name="cluster"/> to <paramref name="path"/> (mode 0600: it holds the key); returns the path.</summary>
    /// <exception cref="InvalidOperationException">The parser rejects the file or reads a different configuration back.</exception>
    public static string WriteCluster(ClusterConfig cluster, string path)
    {
        string text = RenderCluster(cluster);
        var parsed = ConfigParser.ParseCluster(text, path);
        if (parsed.Value is null)
        {
            throw new InvalidOperationException($"The cluster file written for {cluster.Name} does not parse:\n{string.Join('\n', parsed.Errors)}\n{text}");
        }

        // The hash leaves weights and version out; the diff covers them too.
        if (!ClusterConfigDiff.Compare(cluster, parsed.Value).IsEmpty)
        {
            throw new InvalidOperationException($"The cluster file written for {cluster.Name} reads back differently (a setting this writer does not render?):\n{text}");
        }

        // farmd refuses a key that group or others may read.
        File.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    /// <summary>Writes <paramref name="module"/> as <c>DIR/NAME/farm.yaml</c> under <paramref name="modulesDirectory"/>; returns the file's path.</summary>
    /// <exception cref="NotSupportedException">The module has scripts or checkers (not rendered by this writer).</exception>
    /// <exception cref="InvalidOperationException">The parser rejects the file.</exception>
    public static string WriteModule(ModuleConfig module, string modulesDirectory)
    {
        string text = RenderModule(module);
        string directory = Path.Combine(modulesDirectory, module.Name);
        string path = Path.Combine(directory, "farm.yaml");
        var parsed = ConfigParser.ParseModule(text, path);
        if (parsed.Value is null)
        {
            throw new InvalidOperationException($"The module file written for {module.Name} does not parse:\n{string.Join('\n', parsed.Errors)}\n{text}");
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The YAML text of a cluster file.</summary>
    public static string RenderCluster(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var y = new StringBuilder();
        y.AppendLine("cluster:");
        y.AppendLine(Inv($"  name: {cluster.Name}"));
        y.AppendLine(Inv($"  key: {Quote(cluster.Key)}"));
        y.AppendLine(Inv($"  version: {cluster.Version}"));
        y.AppendLine(Inv($"  grpc_port: {cluster.GrpcPort}"));
        y.AppendLine(Inv($"  console_port: {cluster.ConsolePort}"));
        y.AppendLine("  heartbeat:");
        y.AppendLine(Inv($"    interval: {Duration(cluster.Heartbeat.Interval)}"));
        y.AppendLine(Inv($"    detection_timeout: {Duration(cluster.Heartbeat.DetectionTimeout)}"));
        y.AppendLine(Inv($"    lease: {Duration(cluster.Heartbeat.Lease)}"));
        y.AppendLine("  split_brain:");
        y.AppendLine(Inv($"    policy: {cluster.SplitBrain.Policy.ToString().ToLowerInvariant()}"));
        if (cluster.SplitBrain.Witness is { } witness)
        {
            y.AppendLine(Inv($"    witness: {Address(witness)}"));
        }

        if (cluster.Tls is { } tls)
        {
            y.AppendLine("  tls:");
            y.AppendLine(Inv($"    ca: {tls.CaFile}"));
            y.AppendLine(Inv($"    certificate: {Quote(tls.Certificate)}"));
            y.AppendLine(Inv($"    key: {Quote(tls.PrivateKey)}"));
        }

        if (cluster.ConsoleTls is { } consoleTls)
        {
            y.AppendLine("  console_tls:");
            y.AppendLine(Inv($"    certificate: {Quote(consoleTls.Certificate)}"));
            y.AppendLine(Inv($"    key: {Quote(consoleTls.PrivateKey)}"));
        }

        if (cluster.ConsoleUsers != ClusterConfig.DefaultConsoleUsers)
        {
            y.AppendLine(Inv($"  console_users: {Quote(cluster.ConsoleUsers)}"));
        }

        y.AppendLine(Inv($"  lans: [{string.Join(", ", cluster.Lans)}]"));
        y.AppendLine("  nodes:");
        foreach (var node in cluster.Nodes)
        {
            y.AppendLine(Inv($"    - name: {node.Name}"));
            y.AppendLine(Inv($"      addresses: [{string.Join(", ", node.Addresses.Select(Address))}]"));
            y.AppendLine(Inv($"      weight: {node.Weight}"));
            y.AppendLine(Inv($"      priority: {node.Priority}"));
        }

        return y.ToString();
    }

    /// <summary>The YAML text of a module file (without scripts and checkers).</summary>
    /// <exception cref="NotSupportedException">The module has scripts or checkers.</exception>
    public static string RenderModule(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module.Scripts.Count > 0 || module.Checkers.Count > 0)
        {
            throw new NotSupportedException("FarmConfigFiles renders no scripts or checkers; write such a farm.yaml by hand.");
        }

        var y = new StringBuilder();
        y.AppendLine("module:");
        y.AppendLine(Inv($"  name: {module.Name}"));
        y.AppendLine(Inv($"  vips: [{string.Join(", ", module.Vips.Select(Address))}]"));
        y.AppendLine(Inv($"  interface: {module.Interface}"));
        y.AppendLine(Inv($"  mode: {(module.Mode == ModuleMode.Single ? "single" : "balance")}"));
        if (module.Mode == ModuleMode.Single)
        {
            y.AppendLine(Inv($"  failback: {(module.Failback ? "true" : "false")}"));
        }

        y.AppendLine(Inv($"  buckets: {module.Buckets}"));
        y.AppendLine(Inv($"  seed: {module.Seed}"));
        y.AppendLine(Inv($"  vmac_mode: {(module.VmacMode == VmacMode.Promiscuous ? "promiscuous" : "unicast_filter")}"));
        y.AppendLine("  arp:");
        y.AppendLine(Inv($"    gratuitous_interval: {Duration(module.Arp.GratuitousInterval)}"));
        y.AppendLine("  timeouts:");
        y.AppendLine(Inv($"    start: {Duration(module.Timeouts.Start)}"));
        y.AppendLine(Inv($"    stop: {Duration(module.Timeouts.Stop)}"));
        y.AppendLine(Inv($"    stop_force: {Duration(module.Timeouts.StopForce)}"));
        y.AppendLine(Inv($"    drain: {Duration(module.Timeouts.Drain)}"));
        y.AppendLine("  rules:");
        foreach (var rule in module.Rules)
        {
            string ports = rule.FirstPort == rule.LastPort ? Inv($"{rule.FirstPort}") : Inv($"\"{rule.FirstPort}-{rule.LastPort}\"");
            string affinity = rule.Affinity == Affinity.ClientIpPort ? "client_ip_port" : "client_ip";
            y.AppendLine(Inv($"    - {{ protocol: {rule.Protocol.ToString().ToLowerInvariant()}, ports: {ports}, affinity: {affinity} }}"));
        }

        return y.ToString();
    }

    // Whole milliseconds: the file format has no fractions.
    private static string Duration(TimeSpan value)
    {
        if (value.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ArgumentException($"Duration {value} is not a whole number of milliseconds.", nameof(value));
        }

        return Inv($"{(long)value.TotalMilliseconds}ms");
    }

    private static string Address(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? Quote(address.ToString()) : address.ToString();

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
