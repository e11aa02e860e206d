using System.Xml.Linq;

namespace Farm.Cli.Import;

/// <summary>
/// Maps <c>&lt;vip&gt;</c>: the interface and its virtual addresses to <c>vips</c> and <c>interface</c>, the
/// <c>&lt;loadbalancing_list&gt;</c> rules to <c>rules</c> (SafeKit's <c>filter</c> to Farm's <c>affinity</c>), and says
/// where the rest goes (host powers are node weights of the cluster file).
/// </summary>
internal static class SafeKitVipMapper
{
    /// <summary>The interface written when neither the file nor --interface names one (with a warning).</summary>
    public const string DefaultInterface = "eth0";

    private const int AllPortsFirst = 1;
    private const int AllPortsLast = 65535;

    public static void Map(XElement vip, ModuleDraft draft, SafeKitSource s, string? interfaceOverride)
    {
        s.Claim(vip, "tcpreset", "scriptcontrol");
        if (vip.Attribute("tcpreset") is { } reset && s.Attr(vip, "tcpreset") == "on")
        {
            s.Warn(reset, "tcpreset=\"on\": Farm does not reset connections when a node leaves; its buckets drain instead (timeouts.drain), and connections left after the drain get a reset from the new owner", "nothing to do; lower timeouts.drain for a faster hand-over");
        }

        if (vip.Attribute("scriptcontrol") is { } control && s.Attr(vip, "scriptcontrol") == "on")
        {
            s.Warn(control, "scriptcontrol=\"on\": Farm opens traffic only after start_both succeeded and every checker passed, and closes it before stop_both", "remove the traffic open/close calls from the scripts; add a checker (tcp or http) that passes only once the application is ready");
        }

        foreach (var child in vip.Elements())
        {
            switch (child.Name.LocalName)
            {
                case "interface_list":
                    MapInterfaces(child, draft, s, interfaceOverride);
                    break;
                case "loadbalancing_list":
                    MapLoadBalancing(child, draft, s);
                    break;
                default:
                    s.Unhandled(child);
                    break;
            }
        }
    }

    private static void MapInterfaces(XElement list, ModuleDraft draft, SafeKitSource s, string? interfaceOverride)
    {
        s.Claim(list);
        bool first = true;
        foreach (var iface in s.Children(list, "interface"))
        {
            if (!first)
            {
                s.Warn(iface, "a second <interface>: a Farm module carries its VIPs on one interface; this one's VIPs were not imported", "import them into a second module (another folder with its own farm.yaml)");
                continue;
            }

            first = false;
            s.Claim(iface, "check", "arpreroute", "arpinterval", "arpelapse", "name");
            string? named = s.Attr(iface, "name");
            if (interfaceOverride is not null)
            {
                draft.Interface = (interfaceOverride, null);
            }
            else if (!string.IsNullOrEmpty(named))
            {
                draft.Interface = (named, iface.Attribute("name"));
            }
            else
            {
                draft.Interface = (DefaultInterface, iface);
                s.Warn(iface, $"<interface> names no interface: SafeKit finds it from the VIP's subnet, Farm needs its name; '{DefaultInterface}' was written", "pass --interface NAME to the import, or edit 'interface:' in farm.yaml");
            }

            if (s.Attr(iface, "check") is null or "on")
            {
                // SafeKit's implicit interface checker: WAIT while the link is down.
                string name = draft.CheckerName("intf-" + draft.Interface.Value);
                draft.Checkers.Add(new CheckerDraft(name, "interface", [("interface", ModuleYamlWriter.Quote(draft.Interface.Value)), ("action", "wait")], iface));
            }

            if (s.Duration(iface, "arpinterval", "s") is { } arpInterval)
            {
                draft.Settings.Add(("arp", "gratuitous_interval", SafeKitSource.Format(arpInterval), iface.Attribute("arpinterval")!));
            }

            if (iface.Attribute("arpelapse") is { } elapse)
            {
                s.Warn(elapse, "arpelapse: Farm sends gratuitous ARP / unsolicited NA for as long as the module runs, every arp.gratuitous_interval", "nothing to do");
            }

            foreach (var child in iface.Elements())
            {
                if (child.Name.LocalName == "virtual_interface")
                {
                    MapVirtualInterface(child, draft, s);
                }
                else if (child.Name.LocalName == "real_interface")
                {
                    s.Warn(child, "<real_interface> is the VIP of a mirror module (one node at a time); its VIPs were not imported", "a Farm module with 'mode: single' serves a VIP from one node at a time: write its farm.yaml by hand");
                }
                else
                {
                    s.Unhandled(child);
                }
            }
        }
    }

    private static void MapVirtualInterface(XElement vif, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(vif, "type", "addr");
        string? type = s.Attr(vif, "type");
        if (type == "vmac_directed")
        {
            s.Warn(vif.Attribute("type")!, "type=\"vmac_directed\": Farm always answers ARP/ND for the VIP with an invisible virtual MAC (as SafeKit's vmac_invisible), so the switch floods the VIP's frames to every node", "check that the switch floods frames to an unknown MAC on the VIP's VLAN (in a VM: allow MAC changes / forged transmits or promiscuous mode); see docs/dataplane.md");
        }
        else if (type is not null and not "vmac_invisible")
        {
            s.Error(vif.Attribute("type")!, $"type=\"{type}\" is not a SafeKit virtual interface type", "write vmac_invisible or vmac_directed");
        }

        if (vif.Attribute("addr") is { } mac)
        {
            s.Warn(mac, "addr (a fixed virtual MAC): Farm derives the virtual MAC from the VIP, the same on every node", "nothing to do; if a switch or firewall rule names the old MAC, update it");
        }

        foreach (var child in s.Children(vif, "virtual_addr"))
        {
            s.Claim(child, "addr", "where", "check", "connections");
            if (s.Required(child, "addr", "198.18.100.1") is { } address)
            {
                draft.Vips.Add((address, child.Attribute("addr")!));
            }

            if (s.Attr(child, "where") is { } where && where != "alias")
            {
                s.Warn(child.Attribute("where")!, $"where=\"{where}\": in Farm every node of the module binds every VIP (SafeKit's where=\"alias\")", "nothing to do for a farm; for one node at a time use 'mode: single'");
            }

            if (s.Attr(child, "connections") == "on")
            {
                s.Warn(child.Attribute("connections")!, "connections=\"on\": Farm has no per-VIP connection count resource", "see each node's share and bucket counters with 'farmctl status' and the /metrics endpoint (docs/operations.md)");
            }
        }
    }

    private static void MapLoadBalancing(XElement list, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(list);
        var candidates = new List<(string Protocol, int? First, int? Last, string Raw, string Affinity, XElement From)>();
        foreach (var group in s.Children(list, "group"))
        {
            s.Claim(group, "name");
            string groupName = s.Attr(group, "name") ?? "";
            foreach (var child in group.Elements())
            {
                switch (child.Name.LocalName)
                {
                    case "cluster":
                        MapCluster(child, groupName, s);
                        break;
                    case "rule":
                        if (MapRule(child, draft, s) is { } rule)
                        {
                            candidates.Add(rule);
                        }

                        break;
                    default:
                        s.Unhandled(child);
                        break;
                }
            }
        }

        AddRules(candidates, draft, s);
    }

    private static void MapCluster(XElement cluster, string group, SafeKitSource s)
    {
        s.Claim(cluster);
        var hosts = cluster.Elements("host").ToList();
        s.Warn(cluster, $"<cluster> of group '{group}' lists the hosts {string.Join(", ", hosts.Select(h => (string?)h.Attribute("name") ?? "?"))}: a Farm module balances over every node of the cluster where it runs", "install the module only on these nodes, or give the other nodes weight 0 in the cluster file");
        foreach (var child in s.Children(cluster, "host"))
        {
            s.Claim(child, "name", "power");
            string name = s.Attr(child, "name") ?? "?";
            if (s.Attr(child, "power") is { } power)
            {
                string weight = int.TryParse(power, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p <= 10
                    ? (p * 100).ToString(CultureInfo.InvariantCulture)
                    : "100 × power";
                s.Warn(child.Attribute("power")!, $"power {power} of host '{name}': in Farm a node's weight is set in the cluster file, for all modules of the node", $"set 'weight: {weight}' on node '{name}' in the cluster file (weight 100 = power 1; weight 0 takes no traffic)");
            }
        }
    }

    private static (string, int?, int?, string, string, XElement)? MapRule(XElement rule, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(rule, "virtual_addr", "port", "proto", "filter");
        string? proto = s.Required(rule, "proto", "tcp");
        string? filter = s.Required(rule, "filter", "on_addr");
        if (proto is null || filter is null)
        {
            return null;
        }

        if (proto == "arp")
        {
            s.Warn(rule.Attribute("proto")!, "proto=\"arp\": Farm answers ARP and ND for the VIP itself, from every node, with the invisible virtual MAC", "nothing to do");
            return null;
        }

        if (proto is not ("tcp" or "udp"))
        {
            s.Error(rule.Attribute("proto")!, $"proto=\"{proto}\" is not tcp, udp or arp", "write proto=\"tcp\" or proto=\"udp\"");
            return null;
        }

        string affinity;
        switch (filter)
        {
            case "on_addr":
                affinity = "client_ip";
                break;
            case "on_port":
                affinity = "client_ip_port";
                break;
            case "on_ipid":
                affinity = "client_ip_port";
                s.Warn(rule.Attribute("filter")!, "filter=\"on_ipid\" (per IP packet id): Farm keeps a flow on one node; imported as affinity client_ip_port, which spreads a client's flows by source port", "nothing to do unless the application needs per-datagram spreading, which Farm does not offer");
                break;
            default:
                s.Error(rule.Attribute("filter")!, $"filter=\"{filter}\" is not on_addr, on_port or on_ipid", "write filter=\"on_addr\" (a client sticks to one node) or filter=\"on_port\" (a client's connections spread)");
                return null;
        }

        if (s.Attr(rule, "virtual_addr") is { } scope && scope != "*" && draft.Vips.Count > 1)
        {
            s.Warn(rule.Attribute("virtual_addr")!, $"virtual_addr=\"{scope}\": a Farm port rule applies to every VIP of the module", "to balance this VIP with other rules, import it into a module of its own");
        }

        string port = s.Attr(rule, "port") ?? "*";
        if (port.Length == 0)
        {
            s.Error(rule.Attribute("port")!, $"{SafeKitSource.Describe(rule.Attribute("port")!)} is empty (an empty macro?)", "give it a value, e.g. port=\"80\", or port=\"*\" for every port");
            return null;
        }

        if (port == "*")
        {
            return (proto, null, null, port, affinity, rule);
        }

        return int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 65535
            ? (proto, n, n, port, affinity, rule)
            : (proto, -1, -1, port, affinity, rule); // farm.yaml's validation reports it at this rule
    }

    /// <summary>
    /// Farm's rules of one protocol must not overlap. A port rule wins over a <c>port="*"</c> one (which becomes the
    /// ranges around the named ports); of two rules on one port the first wins, and the second is reported.
    /// </summary>
    private static void AddRules(List<(string Protocol, int? First, int? Last, string Raw, string Affinity, XElement From)> candidates, ModuleDraft draft, SafeKitSource s)
    {
        var taken = new List<(string Protocol, int Port, string Affinity, XElement From)>();
        foreach (var c in candidates.Where(c => c.First is not null))
        {
            if (c.First == -1)
            {
                draft.Rules.Add(new RuleDraft(c.Protocol, c.Raw, c.Affinity, c.From));
                continue;
            }

            var same = taken.FirstOrDefault(t => t.Protocol == c.Protocol && t.Port == c.First);
            if (same.From is not null)
            {
                if (same.Affinity != c.Affinity)
                {
                    var (line, _) = SafeKitSource.Position(same.From);
                    s.Warn(c.From, $"{c.Protocol} port {c.Raw} has a rule already (line {line}) with another filter: Farm has one rule per port", $"the rule of line {line} was kept; change its filter if this one was meant");
                }

                continue;
            }

            taken.Add((c.Protocol, c.First!.Value, c.Affinity, c.From));
            draft.Rules.Add(new RuleDraft(c.Protocol, c.Raw, c.Affinity, c.From));
        }

        var wildcardDone = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in candidates.Where(c => c.First is null))
        {
            if (!wildcardDone.Add(c.Protocol))
            {
                s.Warn(c.From, $"a second {c.Protocol} rule for every port: Farm has one rule per port", "the first was kept; remove this one");
                continue;
            }

            int next = AllPortsFirst;
            foreach (int port in taken.Where(t => t.Protocol == c.Protocol).Select(t => t.Port).Order())
            {
                if (port > next)
                {
                    draft.Rules.Add(new RuleDraft(c.Protocol, Range(next, port - 1), c.Affinity, c.From));
                }

                next = port + 1;
            }

            if (next <= AllPortsLast)
            {
                draft.Rules.Add(new RuleDraft(c.Protocol, Range(next, AllPortsLast), c.Affinity, c.From));
            }
        }
    }

    private static string Range(int first, int last) =>
        first == last ? first.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{first}-{last}");
}
