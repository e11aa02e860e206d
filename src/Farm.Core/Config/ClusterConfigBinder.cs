using System.Net;

namespace Farm.Core.Config;

/// <summary>Maps the located tree of a cluster file to <see cref="ClusterConfig"/>, reporting every problem.</summary>
internal static class ClusterConfigBinder
{
    public const int MaxLans = 8;

    private static readonly string[] ClusterKeys = ["name", "key_file", "key", "version", "grpc_port", "console_port", "console_tls", "console_users", "heartbeat", "split_brain", "tls", "lans", "nodes"];
    private static readonly string[] HeartbeatKeys = ["interval", "detection_timeout", "lease"];
    private static readonly string[] SplitBrainKeys = ["policy", "witness"];
    private static readonly string[] NodeKeys = ["name", "addresses", "weight", "priority"];

    private static readonly (string, SplitBrainPolicy)[] Policies =
        [("none", SplitBrainPolicy.None), ("majority", SplitBrainPolicy.Majority), ("witness", SplitBrainPolicy.Witness)];

    public static ClusterConfig? Bind(YamlMapNode map, ConfigDiagnostics d, IKeyFileReader? keyFiles)
    {
        var r = new MappingReader(d, map, "cluster", ClusterKeys);

        string name = "";
        if (r.Scalar("name", required: true, example: "demo") is { } nameNode)
        {
            name = ConfigValues.CheckName(d, nameNode, "cluster name");
        }

        var (key, keyFile) = BindKey(r, d, keyFiles);
        int version = r.Int("version", 0, 0, ClusterConfig.MaxVersion);
        int grpcPort = r.Int("grpc_port", ClusterConfig.DefaultGrpcPort, 1, 65535);
        int consolePort = r.Int("console_port", ClusterConfig.DefaultConsolePort, 1, 65535);
        if (grpcPort == consolePort)
        {
            d.Add(r.Has("console_port") ? r.KeyNode("console_port") : r.KeyNode("grpc_port"), $"console_port and grpc_port are both {grpcPort}", "give the console its own port, e.g. " + (grpcPort + 10));
        }

        var heartbeat = BindHeartbeat(r, d);
        var splitBrain = BindSplitBrain(r, d);
        var tls = BindTls(r, d);
        var consoleTls = BindConsoleTls(r, d);
        string consoleUsers = r.String("console_users", required: false, example: ClusterConfig.DefaultConsoleUsers) ?? ClusterConfig.DefaultConsoleUsers;
        RequireAbsolute(r, d, "cluster", "console_users", consoleUsers, ClusterConfig.DefaultConsoleUsers);
        var lans = BindLans(r, d);
        var nodes = BindNodes(r, d, lans);

        return new ClusterConfig
        {
            Name = name,
            Key = key,
            KeyFile = keyFile,
            Version = version,
            GrpcPort = grpcPort,
            ConsolePort = consolePort,
            ConsoleTls = consoleTls,
            ConsoleUsers = consoleUsers,
            Heartbeat = heartbeat,
            SplitBrain = splitBrain,
            Tls = tls,
            Lans = lans,
            Nodes = nodes,
        };
    }

    /// <summary>The key, inline (<c>key</c>) or read from <c>key_file</c>, and the key file as written (null when inline).</summary>
    private static (string Key, string? KeyFile) BindKey(MappingReader r, ConfigDiagnostics d, IKeyFileReader? keyFiles)
    {
        const string KeyFileExample = "/etc/farm/cluster.key";
        if (r.Has("key") && r.Has("key_file"))
        {
            d.Add(r.KeyNode("key"), "'key' and 'key_file' exclude each other", "keep 'key_file' (the key then stays out of this file) and remove 'key'");
            return ("", null);
        }

        if (!r.Has("key"))
        {
            if (!r.Has("key_file"))
            {
                d.Add(r.Map, "missing required key 'key_file' in cluster", $"add 'key_file: {KeyFileExample}' (a file of its own, mode 0600, holding a long random secret: 'openssl rand -base64 32'), or an inline 'key:'");
                return ("", null);
            }

            if (r.Scalar("key_file", required: true, example: KeyFileExample) is not { } fileNode)
            {
                return ("", null);
            }

            string path = fileNode.Value;
            if (path.Trim().Length == 0 || path.Any(char.IsControl))
            {
                d.Add(fileNode, $"key_file '{path}' is not a valid path", $"write the path of the key file, e.g. {KeyFileExample}");
                return ("", path);
            }

            if (keyFiles is null)
            {
                d.Add(fileNode, "the key file cannot be read here: this tool reads only inline keys", "use farmd or 'farmctl config check', which read key files");
                return ("", path);
            }

            string text;
            try
            {
                text = keyFiles.Read(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                string reason = ex switch
                {
                    FileNotFoundException or DirectoryNotFoundException => "no such file",
                    UnauthorizedAccessException => "permission denied",
                    _ => ex.Message,
                };
                d.Add(fileNode, $"key file '{path}' cannot be read: {reason}", $"create it as root: 'openssl rand -base64 32 > {path}' and 'chmod 600 {path}'; a relative path starts at the cluster file's folder");
                return ("", path);
            }

            // Never echo the secret, not even partly: messages end up in logs and bug reports.
            string key = text.Trim();
            CheckKeyLength(d, fileNode, key, $"the key in key file '{path}'");
            return (key, path);
        }

        if (r.Scalar("key", required: true, example: "<a secret of at least 16 characters>") is not { } keyNode)
        {
            return ("", null);
        }

        CheckKeyLength(d, keyNode, keyNode.Value, "the cluster key");
        return (keyNode.Value, null);
    }

    private static void CheckKeyLength(ConfigDiagnostics d, YamlNodeBase at, string key, string what)
    {
        if (key.Length < ClusterConfig.MinKeyLength)
        {
            d.Add(at, $"{what} is shorter than {ClusterConfig.MinKeyLength} characters", "use a long random secret, e.g. the output of 'openssl rand -base64 32'");
        }
        else if (key.Length > ConfigLimits.MaxKeyLength)
        {
            d.Add(at, $"{what} is longer than {ConfigLimits.MaxKeyLength} characters", "use a secret of 16 to a few hundred characters, e.g. the output of 'openssl rand -base64 32'");
        }
    }

    private static HeartbeatOptions BindHeartbeat(MappingReader parent, ConfigDiagnostics d)
    {
        if (parent.Mapping("heartbeat") is not { } map)
        {
            return new HeartbeatOptions();
        }

        var r = new MappingReader(d, map, "heartbeat", HeartbeatKeys);
        var interval = r.Duration("interval", HeartbeatOptions.DefaultInterval, HeartbeatOptions.MinInterval, HeartbeatOptions.MaxInterval);
        // A longer interval set alone keeps a usable default detection timeout: at least 6 intervals.
        var defaultDetection = r.Has("interval") && 6 * interval > HeartbeatOptions.DefaultDetectionTimeout ? 6 * interval : HeartbeatOptions.DefaultDetectionTimeout;
        var detection = r.Duration("detection_timeout", defaultDetection, TimeSpan.FromMilliseconds(30), TimeSpan.FromSeconds(60));
        // The default lease follows a lowered detection_timeout so that setting only that stays valid.
        var maxLease = HeartbeatOptions.MaxLease(detection, interval);
        var defaultLease = r.Has("detection_timeout") || r.Has("interval")
            ? TimeSpan.FromMilliseconds(Math.Min(Math.Round(detection.TotalMilliseconds * 0.6), maxLease.TotalMilliseconds))
            : HeartbeatOptions.DefaultLease;
        var lease = r.Duration("lease", defaultLease, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(60));
        var heartbeat = new HeartbeatOptions { Interval = interval, DetectionTimeout = detection, Lease = lease };
        if (heartbeat.Problem() is not { } problem)
        {
            return heartbeat;
        }

        // The rule is HeartbeatOptions.Problem; here it gets the line that caused it and what to do.
        if (detection < HeartbeatOptions.MinDetectionIntervals * interval)
        {
            d.Add(r.Has("detection_timeout") ? r.Node("detection_timeout")! : r.Node("interval")!, problem, "a peer must survive two lost heartbeats: raise detection_timeout or lower interval");
        }
        else if (r.Has("lease"))
        {
            d.Add(r.Node("lease")!, problem, "a stalled node must drop its traffic before its peers take it over, and a heartbeat must fit in the remaining window; e.g. 60% of detection_timeout");
        }
        else
        {
            string range = $"interval ({ConfigDuration.Format(interval)}) < lease <= detection_timeout - 2 × interval ({ConfigDuration.Format(maxLease)})";
            d.Add(r.Node("detection_timeout") ?? r.Node("interval")!, $"no lease fits {range}", "raise detection_timeout to more than 3 × interval");
        }

        return heartbeat;
    }

    private static SplitBrainOptions BindSplitBrain(MappingReader parent, ConfigDiagnostics d)
    {
        if (parent.Mapping("split_brain") is not { } map)
        {
            return new SplitBrainOptions();
        }

        var r = new MappingReader(d, map, "split_brain", SplitBrainKeys);
        var policy = r.Choice("policy", SplitBrainPolicy.None, Policies);
        var witness = r.Address("witness", required: false, example: "198.18.0.254");
        if (witness is not null && (ConfigValues.NonUnicastReason(witness) ?? ConfigValues.LinkLocalReason(witness, includeIpv4: false)) is { } reason)
        {
            d.Add(r.Node("witness")!, $"witness {witness} is {reason}", "use the unicast address of a host both sides can reach, e.g. the default gateway");
        }

        if (policy == SplitBrainPolicy.Witness && !r.Has("witness"))
        {
            d.Add(r.Node("policy")!, "split-brain policy 'witness' needs a witness address", "add 'witness: <address>' under split_brain");
        }
        else if (policy != SplitBrainPolicy.Witness && r.Has("witness"))
        {
            d.Add(r.KeyNode("witness"), $"a witness is set but the split-brain policy is '{policy.ToString().ToLowerInvariant()}'", "set 'policy: witness' or remove 'witness'");
        }

        return new SplitBrainOptions { Policy = policy, Witness = witness };
    }

    private static TlsOptions? BindTls(MappingReader parent, ConfigDiagnostics d) =>
        BindPaths(parent, d, "tls", "/etc/farm/tls/", ("ca", "ca.crt"), ("certificate", "{node}.crt"), ("key", "{node}.key")) is [var ca, var certificate, var key]
            ? new TlsOptions { CaFile = ca, Certificate = certificate, PrivateKey = key }
            : null;

    private static ConsoleTlsOptions? BindConsoleTls(MappingReader parent, ConfigDiagnostics d) =>
        BindPaths(parent, d, "console_tls", "/etc/farm/console/", ("certificate", "{node}.crt"), ("key", "{node}.key")) is [var certificate, var key]
            ? new ConsoleTlsOptions { Certificate = certificate, PrivateKey = key }
            : null;

    /// <summary>
    /// The paths of the optional section <paramref name="section"/>, whose keys are all required absolute paths (the
    /// example of each: a file in <paramref name="folder"/>). Null when the section is absent or a path is missing;
    /// each path that is not absolute is reported.
    /// </summary>
    private static string[]? BindPaths(MappingReader parent, ConfigDiagnostics d, string section, string folder, params (string Key, string File)[] keys)
    {
        if (parent.Mapping(section) is not { } map)
        {
            return null;
        }

        var r = new MappingReader(d, map, section, [.. keys.Select(k => k.Key)]);
        string?[] paths = [.. keys.Select(k => r.String(k.Key, required: true, example: folder + k.File))];
        for (int i = 0; i < keys.Length; i++)
        {
            RequireAbsolute(r, d, section, keys[i].Key, paths[i], folder + "...");
        }

        return paths.Contains(null) ? null : [.. paths.OfType<string>()];
    }

    /// <summary>Reports <paramref name="path"/> (the value of <paramref name="key"/> in <paramref name="section"/>) when it is not absolute.</summary>
    private static void RequireAbsolute(MappingReader r, ConfigDiagnostics d, string section, string key, string? path, string example)
    {
        if (path is not null && !Path.IsPathFullyQualified(path))
        {
            d.Add(r.Node(key)!, $"{section}.{key} '{path}' is not an absolute path", "give the full path, e.g. " + example);
        }
    }

    private static List<string> BindLans(MappingReader parent, ConfigDiagnostics d)
    {
        if (parent.List("lans") is not { } list)
        {
            return [ClusterConfig.DefaultLanName];
        }

        if (list.Items.Count == 0)
        {
            d.Add(list, "'lans' is empty", "list at least one LAN name, or remove 'lans' to use one LAN");
            return [ClusterConfig.DefaultLanName];
        }

        if (list.Items.Count > MaxLans)
        {
            d.Add(list.Items[MaxLans], $"more than {MaxLans} LANs", $"keep at most {MaxLans} heartbeat LANs");
        }

        var lans = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in list.Items)
        {
            if (item is not YamlScalarNode { IsNull: false } scalar)
            {
                d.Add(item, $"a LAN name must be a single value, not {item.Describe()}", "write '- lan1'");
                continue;
            }

            string lan = ConfigValues.CheckName(d, scalar, "LAN name");
            if (!seen.TryAdd(lan, scalar.Line))
            {
                d.Add(scalar, $"duplicate LAN name '{lan}' (first at line {seen[lan]})", "give each LAN a unique name");
            }

            lans.Add(lan);
        }

        return lans;
    }

    private static List<NodeConfig> BindNodes(MappingReader parent, ConfigDiagnostics d, List<string> lans)
    {
        var nodes = new List<NodeConfig>();
        if (parent.List("nodes", required: true, example: "[{ name: node1, addresses: [198.18.0.1] }]") is not { } list)
        {
            return nodes;
        }

        if (list.Items.Count == 0)
        {
            d.Add(list, "'nodes' is empty", "list at least one node");
            return nodes;
        }

        if (list.Items.Count > ClusterConfig.MaxNodes)
        {
            d.Add(list.Items[ClusterConfig.MaxNodes], $"the cluster has {list.Items.Count} nodes, more than {ClusterConfig.MaxNodes}", $"keep at most {ClusterConfig.MaxNodes} nodes");
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var addressOwners = new Dictionary<IPAddress, string>();
        for (int i = 0; i < list.Items.Count; i++)
        {
            var item = list.Items[i];
            if (item is not YamlMapNode map)
            {
                d.Add(item, $"node #{i + 1} must be a mapping, not {item.Describe()}", "write '- name: node1' with 'addresses:' below it");
                continue;
            }

            var nameNode = map.Entries.FirstOrDefault(e => e.Key.Value == "name").Value as YamlScalarNode;
            string where = nameNode is { IsNull: false } ? $"node '{nameNode.Value}'" : $"node #{i + 1}";
            var r = new MappingReader(d, map, where, NodeKeys);

            string name = $"#{i + 1}";
            if (r.Scalar("name", required: true, example: "node" + (i + 1)) is { } n)
            {
                name = ConfigValues.CheckName(d, n, "node name");
                if (!names.TryAdd(name, n.Line))
                {
                    d.Add(n, $"duplicate node name '{name}' (first at line {names[name]})", "give each node a unique name");
                }
            }

            var addresses = BindAddresses(r, d, lans, name, addressOwners, nodes);
            int weight = r.Int("weight", NodeConfig.DefaultWeight, 0, NodeConfig.MaxWeight);
            int priority = r.Int("priority", 0, 0, NodeConfig.MaxPriority);
            nodes.Add(new NodeConfig { Name = name, Addresses = addresses, Weight = weight, Priority = priority });
        }

        if (nodes.Count > 0 && nodes.All(n => n.Weight == 0) && parent.Node("nodes") is { } at)
        {
            d.Add(at, "every node has weight 0, so no node would take any bucket", "give at least one node a positive weight");
        }

        return nodes;
    }

    private static List<IPAddress> BindAddresses(MappingReader r, ConfigDiagnostics d, List<string> lans, string node, Dictionary<IPAddress, string> owners, List<NodeConfig> earlier)
    {
        var addresses = new List<IPAddress>();
        if (r.List("addresses", required: true, example: "[198.18.0.1]") is not { } list)
        {
            return addresses;
        }

        if (list.Items.Count != lans.Count)
        {
            d.Add(
                list,
                $"node '{node}' has {list.Items.Count} address(es) but the cluster has {lans.Count} LAN(s) ({string.Join(", ", lans)})",
                "give exactly one address per LAN, in the order of 'lans'");
        }

        for (int lan = 0; lan < list.Items.Count; lan++)
        {
            var item = list.Items[lan];
            if (item is not YamlScalarNode { IsNull: false } scalar)
            {
                d.Add(item, $"an address of node '{node}' must be a single value, not {item.Describe()}", "write '- 198.18.0.1'");
                continue;
            }

            if (ConfigValues.Address(d, scalar, $"an address of node '{node}'", "198.18.0.1") is not { } address)
            {
                continue;
            }

            if ((ConfigValues.NonUnicastReason(address) ?? ConfigValues.LinkLocalReason(address, includeIpv4: false)) is { } reason)
            {
                d.Add(scalar, $"address {address} of node '{node}' is {reason}", "use the node's unicast address on that LAN (global or unique-local for IPv6)");
            }
            else if (!owners.TryAdd(address, node))
            {
                d.Add(scalar, $"address {address} of node '{node}' is already used by node '{owners[address]}'", "every node needs its own address on each LAN");
            }
            else if (lan < lans.Count && earlier.FirstOrDefault(n => n.Addresses.Count > lan) is { } first &&
                     first.Addresses[lan].AddressFamily != address.AddressFamily)
            {
                d.Add(scalar, $"address {address} of node '{node}' on LAN '{lans[lan]}' is not of the same IP version as node '{first.Name}' ({first.Addresses[lan]})", "use one IP version per LAN; add a second LAN for the other version");
            }

            addresses.Add(address);
        }

        return addresses;
    }
}
