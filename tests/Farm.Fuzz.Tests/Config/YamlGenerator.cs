namespace Farm.Fuzz.Tests.Config;

/// <summary>
/// Builds cluster and module files from the configuration's grammar with values drawn mostly from the valid ranges and
/// sometimes from their edges and beyond (huge numbers, odd units, link-local addresses, injected interface names),
/// in block or flow style, with anchors and aliases: inputs random bytes rarely reach, such as a file that passes.
/// </summary>
internal sealed class YamlGenerator(Random random)
{
    private static readonly string[] Names = ["a", "b", "node-1", "web", "demo", "n2", "Demo_1", "-a", "", new string('x', 64), "ä"];
    private static readonly string[] Ints = ["0", "1", "2", "7", "100", "1000", "1001", "65535", "65536", "-1", "2147483647", "2147483648", "99999999999999999999", "0x10", "1e3", "\"100\"", "true", "~", "256", "4096", "65537"];
    private static readonly string[] Durations = ["50ms", "300ms", "150ms", "100ms", "1s", "5s", "10s", "2m", "1h", "24h", "0s", "256204779h", "256204778h", "99999999999999999999ms", "922337203685478ms", "1.5s", "5sec", "100", "-1s", "1m30s", "\"5s\""];
    private static readonly string[] Addresses = ["198.18.0.1", "198.18.0.2", "198.18.0.3", "198.19.0.1", "198.19.0.2", "\"2001:db8::1\"", "\"2001:db8::2\"", "\"fe80::1\"", "127.0.0.1", "224.0.0.1", "10.1", "198.18.0.1/24", "\"::ffff:1.2.3.4\"", "\"[::1]\"", "0.0.0.0", "169.254.1.1", "255.255.255.255", "010.0.0.1", "example.org"];
    private static readonly string[] Interfaces = ["eth0", "enp0s31f6", "bond0.100", "veth_a-1", "lo", "\"eth0\\\"; flush ruleset\"", "\"..\"", "averyveryverylongname", "\"eth0\\e[2J\"", "\"\"", "eth0/1", "\"a b\""];
    private static readonly string[] Bools = ["true", "false", "yes", "on", "\"true\"", "1"];
    private static readonly string[] Paths = ["bin/check", "bin/check_db", "../x", "/etc/passwd", "bin\\\\x", "\"\"", "./bin/../bin/check"];
    private readonly List<string> anchors = [];
    private int nextAnchor;

    public string Cluster()
    {
        var y = new StringBuilder("cluster:\n");
        Setting(y, 1, "name", Pick(Names));
        switch (random.Next(6))
        {
            case 0: Setting(y, 1, "key_file", Pick(["/etc/farm/cluster.key", "cluster.key", "missing.key", "\"\"", "\"k\\e\""])); break;
            case 1: Setting(y, 1, "key", Pick(["short", "\"\"", new string('k', 5000)])); break;
            case 2: break;
            default: Setting(y, 1, "key", "0123456789abcdef0123"); break;
        }

        Maybe(() => Setting(y, 1, "version", Pick(Ints)));
        Maybe(() => Setting(y, 1, "grpc_port", Pick(Ints)));
        Maybe(() => Setting(y, 1, "console_port", Pick(Ints)));
        Maybe(() => Mapping(y, 1, "heartbeat", [("interval", () => Pick(Durations)), ("detection_timeout", () => Pick(Durations)), ("lease", () => Pick(Durations))]));
        Maybe(() => Mapping(y, 1, "split_brain", [("policy", () => Pick(["none", "majority", "witness", "majorty"])), ("witness", () => Pick(Addresses))]));
        int lans = random.Next(3) == 0 ? random.Next(0, 10) : 1;
        if (lans != 1 || random.Next(2) == 0)
        {
            Setting(y, 1, "lans", Flow(Enumerable.Range(0, lans).Select(i => random.Next(8) == 0 ? Pick(Names) : $"lan{i}")));
        }

        Line(y, 1, "nodes:");
        int nodes = random.Next(10) == 0 ? random.Next(0, 70) : random.Next(1, 5);
        for (int n = 0; n < nodes; n++)
        {
            var fields = new List<(string, Func<string>)>
            {
                ("name", () => random.Next(6) == 0 ? Pick(Names) : $"n{n}"),
                ("addresses", () => Flow(Enumerable.Range(0, Math.Max(1, lans)).Select(l => random.Next(5) == 0 ? Pick(Addresses) : $"198.{18 + l}.{n / 200}.{(n % 200) + 1}"))),
                ("weight", () => Pick(Ints)),
                ("priority", () => Pick(Ints)),
            };
            ListItem(y, 2, fields);
        }

        return y.ToString();
    }

    public string Module()
    {
        var y = new StringBuilder("module:\n");
        Setting(y, 1, "name", Pick(Names));
        Setting(y, 1, "vips", Flow(Enumerable.Range(0, random.Next(5) == 0 ? random.Next(0, 300) : random.Next(1, 4)).Select(i => random.Next(5) == 0 ? Pick(Addresses) : $"198.18.{100 + (i / 250)}.{(i % 250) + 1}")));
        Setting(y, 1, "interface", random.Next(3) == 0 ? Pick(Interfaces) : "eth0");
        Maybe(() => Setting(y, 1, "mode", Pick(["balance", "single", "singel"])));
        Maybe(() => Setting(y, 1, "failback", Pick(Bools)));
        Maybe(() => Setting(y, 1, "buckets", Pick(Ints)));
        Maybe(() => Setting(y, 1, "seed", Pick(["0x6661726d", "0", "4294967295", "4294967296", "0xfffffffff", "random", "\"1\""])));
        Line(y, 1, "rules:");
        int rules = random.Next(8) == 0 ? random.Next(0, 1100) : random.Next(1, 4);
        for (int i = 0; i < rules; i++)
        {
            ListItem(y, 2, [
                ("protocol", () => Pick(["tcp", "udp", "sctp"])),
                ("ports", () => Pick(["80", "443", "\"8000-8100\"", "\"70-90\"", "0", "65536", "\"9-1\"", "99999999999", "\"1-99999999999\"", $"{1 + i}"])),
                ("affinity", () => Pick(["client_ip", "client_ip_port", "ip"]))]);
        }

        Maybe(() => Setting(y, 1, "vmac_mode", Pick(["unicast_filter", "promiscuous", "unicast"])));
        Maybe(() => Mapping(y, 1, "arp", [("gratuitous_interval", () => Pick(Durations))]));
        Maybe(() => Mapping(y, 1, "timeouts", [("start", () => Pick(Durations)), ("stop", () => Pick(Durations)), ("stop_force", () => Pick(Durations)), ("drain", () => Pick(Durations))]));
        Maybe(() =>
        {
            Line(y, 1, "scripts:");
            Mapping(y, 2, Pick(["prestart", "start_both", "stop_both", "poststop", "start_prim", "stop_prim", "restart"]), [("timeout", () => Pick(Durations))]);
        });
        Maybe(() =>
        {
            Line(y, 1, "checkers:");
            int checkers = random.Next(8) == 0 ? random.Next(0, 70) : random.Next(1, 4);
            for (int i = 0; i < checkers; i++)
            {
                ListItem(y, 2, Checker(i));
            }
        });
        Maybe(() => Mapping(y, 1, "recovery", [("maxloop", () => Pick(Ints)), ("loop_interval", () => Pick(Durations))]));
        return y.ToString();
    }

    private List<(string, Func<string>)> Checker(int index)
    {
        string type = Pick(["tcp", "http", "process", "custom", "interface", "ping", "smtp"]);
        var fields = new List<(string, Func<string>)>
        {
            ("name", () => random.Next(6) == 0 ? Pick(Names) : $"c{index}"),
            ("type", () => type),
            ("interval", () => Pick(Durations)),
            ("timeout", () => Pick(Durations)),
            ("when", () => Pick(["always", "before_start", "never"])),
            ("action", () => Pick(["restart", "stopstart", "stop", "wait", "reboot"])),
        };
        switch (type)
        {
            case "tcp": fields.Add(("address", () => Pick(Addresses))); fields.Add(("port", () => Pick(Ints))); break;
            case "http": fields.Add(("url", () => Pick(["http://127.0.0.1/", "https://[2001:db8::1]:8443/x", "/health", "ftp://x", "\"http://\\e[2J\""]))); fields.Add(("expect_status", () => Pick(Ints))); break;
            case "process": fields.Add((Pick(["process", "regex"]), () => Pick(["nginx", "'^/usr/bin/.*$'", "'(a+)+$'", "'['", "'(?<x>a)\\k<y>'"]))); fields.Add(("min", () => Pick(Ints))); fields.Add(("max", () => Pick(Ints))); break;
            case "custom": fields.Add(("script", () => Pick(Paths))); break;
            case "interface": fields.Add(("interface", () => Pick(Interfaces))); break;
            default: fields.Add(("address", () => Pick(Addresses))); break;
        }

        // A field of another type now and then.
        Maybe(() => fields.Add((Pick(["url", "port", "script", "regex", "interface"]), () => Pick(Paths))));
        return fields;
    }

    private void Setting(StringBuilder y, int level, string key, string value) => Line(y, level, $"{key}: {Value(value)}");

    private void Mapping(StringBuilder y, int level, string key, List<(string Key, Func<string> Value)> fields)
    {
        var chosen = fields.Where(_ => random.Next(4) != 0).ToList();
        if (random.Next(2) == 0)
        {
            Line(y, level, $"{key}: {{ {string.Join(", ", chosen.Select(f => $"{f.Key}: {Value(f.Value())}"))} }}");
            return;
        }

        Line(y, level, key + ":" + AnchorPrefix());
        foreach (var (k, v) in chosen)
        {
            Setting(y, level + 1, k, v());
        }
    }

    private void ListItem(StringBuilder y, int level, List<(string Key, Func<string> Value)> fields)
    {
        if (anchors.Count > 0 && random.Next(10) == 0)
        {
            Line(y, level, "- *" + Pick(anchors));
            return;
        }

        var chosen = fields.Where((_, i) => i < 2 || random.Next(3) != 0).ToList();
        if (random.Next(3) == 0)
        {
            chosen.Reverse();
        }

        string anchor = AnchorPrefix();
        Line(y, level, $"-{anchor} {{ {string.Join(", ", chosen.Select(f => $"{f.Key}: {Value(f.Value())}"))} }}");
    }

    /// <summary>Mostly the value itself; sometimes anchored (for later aliases) or replaced by an alias.</summary>
    private string Value(string value)
    {
        if (anchors.Count > 0 && random.Next(30) == 0)
        {
            return "*" + Pick(anchors);
        }

        return AnchorPrefix().TrimStart() is { Length: > 0 } anchor ? $"{anchor} {value}" : value;
    }

    private string AnchorPrefix()
    {
        if (random.Next(20) != 0)
        {
            return "";
        }

        string name = "x" + nextAnchor++;
        anchors.Add(name);
        return " &" + name;
    }

    private string Flow(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(Value)) + "]";

    private void Maybe(Action add)
    {
        if (random.Next(2) == 0)
        {
            add();
        }
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static void Line(StringBuilder y, int level, string text) => y.Append(' ', 2 * level).Append(text).Append('\n');
}
