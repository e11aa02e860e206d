using System.Globalization;
using System.Net;
using System.Numerics;
using Farm.Core.Hashing;

namespace Farm.Core.Config;

/// <summary>Maps the located tree of a module's farm.yaml to <see cref="ModuleConfig"/>, reporting every problem.</summary>
internal static class ModuleConfigBinder
{
    private static readonly string[] ModuleKeys =
        ["name", "vips", "interface", "mode", "failback", "buckets", "seed", "rules", "vmac_mode", "arp", "timeouts", "scripts", "checkers", "recovery"];

    private static readonly string[] RuleKeys = ["protocol", "ports", "affinity"];
    private static readonly string[] ArpKeys = ["gratuitous_interval"];
    private static readonly string[] TimeoutKeys = ["start", "stop", "stop_force", "drain"];
    private static readonly string[] ScriptKeys = ["timeout"];
    private static readonly string[] RecoveryKeys = ["maxloop", "loop_interval"];

    private static readonly (string, ModuleMode)[] Modes = [("balance", ModuleMode.Balance), ("single", ModuleMode.Single)];
    private static readonly (string, TransportProtocol)[] Protocols = [("tcp", TransportProtocol.Tcp), ("udp", TransportProtocol.Udp)];
    private static readonly (string, Affinity)[] Affinities = [("client_ip", Affinity.ClientIp), ("client_ip_port", Affinity.ClientIpPort)];
    private static readonly (string, VmacMode)[] VmacModes = [("unicast_filter", VmacMode.UnicastFilter), ("promiscuous", VmacMode.Promiscuous)];

    public static ModuleConfig? Bind(YamlMapNode map, ConfigDiagnostics d)
    {
        var r = new MappingReader(d, map, "module", ModuleKeys);

        string name = "";
        if (r.Scalar("name", required: true, example: "web") is { } nameNode)
        {
            name = ConfigValues.CheckName(d, nameNode, "module name");
        }

        var vips = BindVips(r, d);
        string iface = "";
        if (r.Scalar("interface", required: true, example: "eth0") is { } ifaceNode)
        {
            iface = CheckInterface(d, ifaceNode);
        }

        var mode = r.Choice("mode", ModuleMode.Balance, Modes);
        bool failback = r.Bool("failback", false);
        if (r.Has("failback") && mode != ModuleMode.Single)
        {
            d.Add(r.KeyNode("failback"), "'failback' applies only to mode single", "remove 'failback' or set 'mode: single'");
        }

        int buckets = r.Int("buckets", ModuleConfig.DefaultBuckets, ModuleConfig.MinBuckets, ModuleConfig.MaxBuckets);
        if (!BitOperations.IsPow2(buckets))
        {
            int lower = (int)BitOperations.RoundUpToPowerOf2((uint)buckets) / 2;
            d.Add(r.Node("buckets")!, $"buckets {buckets} is not a power of two", $"use a power of two from {ModuleConfig.MinBuckets} to {ModuleConfig.MaxBuckets}, e.g. {lower} or {lower * 2}");
            buckets = ModuleConfig.DefaultBuckets;
        }

        uint seed = BindSeed(r, d);
        var rules = BindRules(r, d);
        var vmacMode = r.Choice("vmac_mode", VmacMode.UnicastFilter, VmacModes);

        var arp = new ArpOptions();
        if (r.Mapping("arp") is { } arpMap)
        {
            var a = new MappingReader(d, arpMap, "arp", ArpKeys);
            arp = new ArpOptions { GratuitousInterval = a.Duration("gratuitous_interval", ArpOptions.DefaultGratuitousInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)) };
        }

        var timeouts = new ModuleTimeoutOptions();
        if (r.Mapping("timeouts") is { } timeoutMap)
        {
            var t = new MappingReader(d, timeoutMap, "timeouts", TimeoutKeys);
            timeouts = new ModuleTimeoutOptions
            {
                Start = t.Duration("start", ModuleTimeoutOptions.DefaultStart, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
                Stop = t.Duration("stop", ModuleTimeoutOptions.DefaultStop, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
                StopForce = t.Duration("stop_force", ModuleTimeoutOptions.DefaultStopForce, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)),
                Drain = t.Duration("drain", ModuleTimeoutOptions.DefaultDrain, TimeSpan.Zero, TimeSpan.FromHours(1)),
            };
        }

        var scripts = BindScripts(r, d);
        var checkers = CheckerConfigBinder.BindAll(r, d);

        var recovery = new RecoveryOptions();
        if (r.Mapping("recovery") is { } recoveryMap)
        {
            var rr = new MappingReader(d, recoveryMap, "recovery", RecoveryKeys);
            recovery = new RecoveryOptions
            {
                MaxLoop = rr.Int("maxloop", RecoveryOptions.DefaultMaxLoop, 1, 1000),
                LoopInterval = rr.Duration("loop_interval", RecoveryOptions.DefaultLoopInterval, TimeSpan.FromMinutes(1), TimeSpan.FromHours(720)),
            };
        }

        return new ModuleConfig
        {
            Name = name,
            Vips = vips,
            Interface = iface,
            Mode = mode,
            Failback = failback,
            Buckets = buckets,
            Seed = seed,
            Rules = rules,
            VmacMode = vmacMode,
            Arp = arp,
            Timeouts = timeouts,
            Scripts = scripts,
            Checkers = checkers,
            Recovery = recovery,
        };
    }

    /// <summary>Reports an interface name the data plane would refuse (<see cref="InterfaceName.IsValid"/>); returns it either way.</summary>
    public static string CheckInterface(ConfigDiagnostics d, YamlScalarNode scalar)
    {
        string name = scalar.Value;
        if (!InterfaceName.IsValid(name))
        {
            d.Add(
                scalar,
                $"'{name}' is not a valid interface name",
                $"write the interface name as 'ip link' shows it (1 to {InterfaceName.MaxLength} letters, digits, '-', '_', '.' or '@'), e.g. eth0");
        }

        return name;
    }

    private static List<IPAddress> BindVips(MappingReader r, ConfigDiagnostics d)
    {
        var vips = new List<IPAddress>();
        var items = RequiredItems(
            r,
            d,
            ("vips", "[198.18.100.1]", "list at least one virtual IP, e.g. '- 198.18.100.1'"),
            (ConfigLimits.MaxVips, "VIPs", $"keep at most {ConfigLimits.MaxVips} VIPs per module"));
        var seen = new Dictionary<IPAddress, int>();
        foreach (var item in items)
        {
            if (item is not YamlScalarNode { IsNull: false } scalar)
            {
                d.Add(item, $"a VIP must be a single value, not {item.Describe()}", "write '- 198.18.100.1'");
                continue;
            }

            if (ConfigValues.Address(d, scalar, "a VIP", "198.18.100.1 or 2001:db8::100") is not { } vip)
            {
                continue;
            }

            if (ConfigValues.NonUnicastReason(vip) is { } reason)
            {
                d.Add(scalar, $"VIP {vip} is {reason}, not a unicast address", "use a unicast IPv4 or IPv6 address that clients can reach");
            }
            else if (ConfigValues.LinkLocalReason(vip, includeIpv4: true) is { } scope)
            {
                d.Add(scalar, $"VIP {vip} is {scope}", "use a unicast IPv4 or IPv6 address of global or unique-local scope that clients can reach");
            }
            else if (!seen.TryAdd(vip, scalar.Line))
            {
                d.Add(scalar, $"duplicate VIP {vip} (first at line {seen[vip]})", "list each VIP once");
            }

            vips.Add(vip);
        }

        return vips;
    }

    /// <summary>
    /// The items of a required list, up to its limit (those past it are not bound); an absent or empty list, and one
    /// over the limit, is reported.
    /// </summary>
    private static List<YamlNodeBase> RequiredItems(
        MappingReader r,
        ConfigDiagnostics d,
        (string Key, string Example, string EmptyHint) list,
        (int Max, string What, string Hint) limit)
    {
        if (r.List(list.Key, required: true, example: list.Example) is not { } node)
        {
            return [];
        }

        var items = node.Items;
        if (items.Count == 0)
        {
            d.Add(node, $"'{list.Key}' is empty", list.EmptyHint);
        }

        if (items.Count > limit.Max)
        {
            d.Add(items[limit.Max], $"the module has {items.Count} {limit.What}, more than {limit.Max}", limit.Hint);
        }

        return items[..Math.Min(items.Count, limit.Max)];
    }

    private static uint BindSeed(MappingReader r, ConfigDiagnostics d)
    {
        if (r.Scalar("seed", example: "0x6661726d") is not { } scalar)
        {
            return ModuleConfig.DefaultSeed;
        }

        string text = scalar.Value;
        uint value = 0;
        bool ok = scalar.IsPlain && (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value));
        if (!ok)
        {
            d.Add(scalar, $"seed {scalar.Describe()} is not an unsigned 32-bit integer", "write a number from 0 to 4294967295, in decimal or as 0x followed by up to 8 hex digits, without quotes");
            return ModuleConfig.DefaultSeed;
        }

        return value;
    }

    private static List<PortRuleConfig> BindRules(MappingReader parent, ConfigDiagnostics d)
    {
        var rules = new List<PortRuleConfig>();
        // Past the limit the rules are not bound: the overlap check compares every pair.
        var items = RequiredItems(
            parent,
            d,
            ("rules", "[{ protocol: tcp, ports: 80 }]", "list at least one port rule, e.g. '- { protocol: tcp, ports: 80 }'"),
            (ConfigLimits.MaxRules, "port rules", "merge adjacent ports into ranges (\"8000-8100\")"));
        var located = new List<(PortRuleConfig Rule, YamlNodeBase At, int Index)>();
        for (int i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item is not YamlMapNode map)
            {
                d.Add(item, $"port rule #{i + 1} must be a mapping, not {item.Describe()}", "write '- { protocol: tcp, ports: 80 }'");
                continue;
            }

            var r = new MappingReader(d, map, $"port rule #{i + 1}", RuleKeys);
            var protocol = r.Choice("protocol", TransportProtocol.Tcp, Protocols);
            var affinity = r.Choice("affinity", Affinity.ClientIp, Affinities);
            if (r.Scalar("ports", required: true, example: "80") is not { } portsNode || ParsePorts(d, portsNode, i + 1) is not { } range)
            {
                continue;
            }

            var rule = new PortRuleConfig { Protocol = protocol, FirstPort = range.First, LastPort = range.Last, Affinity = affinity };
            // The first overlap only: a rule repeated a thousand times (one alias) would otherwise make half a million errors.
            if (located.FirstOrDefault(other => other.Rule.Overlaps(rule)) is { Rule: not null } other)
            {
                d.Add(portsNode, $"port rule #{i + 1} ({rule}) overlaps port rule #{other.Index} ({other.Rule}, line {other.At.Line})", "make the port ranges of one protocol disjoint, or merge the two rules");
            }

            located.Add((rule, portsNode, i + 1));
            rules.Add(rule);
        }

        return rules;
    }

    private static (int First, int Last)? ParsePorts(ConfigDiagnostics d, YamlScalarNode scalar, int rule)
    {
        string text = scalar.Value.Trim();
        string[] parts = text.Split('-', 2, StringSplitOptions.TrimEntries);
        bool ok = parts.All(p => p.Length > 0 && !p.AsSpan().ContainsAnyExceptInRange('0', '9'));
        // However many digits: a number beyond int is out of range, not malformed.
        int first = ok ? Port(parts[0]) : 0;
        int last = ok && parts.Length == 2 ? Port(parts[1]) : first;
        if (!ok)
        {
            d.Add(scalar, $"ports of port rule #{rule} is {scalar.Describe()}, not a port or a range", "write a port (80) or a range (\"8000-8100\")");
            return null;
        }

        if (first is < 1 or > 65535 || last is < 1 or > 65535)
        {
            d.Add(scalar, $"ports '{text}' of port rule #{rule} is out of range", "ports go from 1 to 65535");
            return null;
        }

        if (last < first)
        {
            d.Add(scalar, $"port range '{text}' of port rule #{rule} ends before it starts", $"write it as \"{last}-{first}\"");
            return null;
        }

        return (first, last);
    }

    private static int Port(string digits) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int port) ? port : int.MaxValue;

    private static List<ScriptConfig> BindScripts(MappingReader parent, ConfigDiagnostics d)
    {
        var scripts = new List<ScriptConfig>();
        if (parent.Mapping("scripts") is not { } map)
        {
            return scripts;
        }

        var r = new MappingReader(d, map, "scripts", ScriptConfig.KnownScripts);
        foreach (string script in ScriptConfig.KnownScripts)
        {
            if (r.Mapping(script) is not { } scriptMap)
            {
                continue;
            }

            var s = new MappingReader(d, scriptMap, $"script '{script}'", ScriptKeys);
            TimeSpan? timeout = s.Has("timeout") ? s.Duration("timeout", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)) : null;
            scripts.Add(new ScriptConfig { Name = script, Timeout = timeout });
        }

        return scripts;
    }
}
