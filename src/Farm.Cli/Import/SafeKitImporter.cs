using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace Farm.Cli.Import;

/// <summary>
/// Turns a SafeKit farm module (userconfig.xml and its scripts) into the files of a Farm module folder, with one
/// warning per element that has no equivalent. Pure: the caller reads and writes the files. The farm.yaml made is
/// validated by the parser <c>farmctl config check</c> runs; a value it refuses is reported at the XML element it came from.
/// </summary>
internal static partial class SafeKitImporter
{
    // SafeKit's defaults for the user scripts' stop limits (its guide, section 13.8); Farm's own are shorter.
    private static readonly TimeSpan SafeKitStopTimeout = TimeSpan.FromSeconds(300);
    private static readonly TimeSpan MaxStopForce = TimeSpan.FromMinutes(10);

    /// <summary>The sections of a service Farm has no equivalent for, and what to do instead.</summary>
    private static readonly Dictionary<string, (string Message, string Hint)> NoEquivalent = new(StringComparer.Ordinal)
    {
        ["failover"] = ("<failover> rules: Farm has no rule language; each checker's 'action' decides", "set the action of the checker a rule referred to; see the checkers in farm.yaml"),
        ["vhost"] = ("<vhost> (virtual hostname): no equivalent in Farm", "set the host name in the application's own configuration"),
    };

    public static SafeKitImport Import(SafeKitImportRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var s = new SafeKitSource(request.XmlFile);
        if (Load(request.XmlText, s) is not { } root)
        {
            return new SafeKitImport([], s.Messages);
        }

        s.DefineMacros(root);
        s.Claim(root);
        var service = root.Elements("service").FirstOrDefault();
        foreach (var other in root.Elements().Where(e => e.Name.LocalName is not ("service" or "macro")))
        {
            s.Unhandled(other);
        }

        if (service is null)
        {
            s.Error(root, "userconfig.xml has no <service> section", "a SafeKit module's settings are in <service mode=\"farm\">; pass the module's conf/userconfig.xml");
            return new SafeKitImport([], s.Messages);
        }

        var draft = new ModuleDraft { Name = request.ModuleName, Interface = (request.Interface ?? "", null) };
        bool hasUser = MapService(service, draft, request, s);
        if (s.HasErrors)
        {
            return new SafeKitImport([], s.Messages);
        }

        var files = new List<ImportedFile>();
        bool needsShell = request.Scripts.Count > 0 || draft.GeneratedScripts.Count > 0;
        if (needsShell)
        {
            files.AddRange(SafeKitScripts.Files(request.Scripts, request.ScriptsFolder ?? "bin", hasUser, s));
            files.Add(Text("safekit/shim", SafeKitScripts.Shim, true));
            files.Add(Text("safekit/compat/safekit", SafeKitScripts.Compat, true));
            files.Add(Text("safekit/env.sh", SafeKitScripts.Environment(request.ModuleName, Variables(service, s)), false));
            files.Add(Text("safekit/conf/userconfig.xml", request.XmlText, false));
            files.AddRange(draft.GeneratedScripts.Select(kv => Text(kv.Key, kv.Value, true)));
        }

        var yaml = ModuleYamlWriter.Render(draft, Header(request, s));
        Validate(yaml, s);
        if (s.HasErrors)
        {
            return new SafeKitImport([], s.Messages);
        }

        files.Insert(0, Text("farm.yaml", yaml.Text, false));
        return new SafeKitImport(files, s.Messages);
    }

    private static XElement? Load(string text, SafeKitSource s)
    {
        // SafeKit's files start with <!DOCTYPE safe>: ignore DTDs, never resolve anything.
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            MaxCharactersFromEntities = 1024,
            MaxCharactersInDocument = ConfigLimits.MaxFileLength,
        };
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), settings);
            var root = XDocument.Load(reader, LoadOptions.SetLineInfo).Root!;
            if (root.Name.LocalName != "safe")
            {
                s.Error(root, $"the root element is <{root.Name.LocalName}>, not <safe>", "pass a SafeKit module's conf/userconfig.xml");
                return null;
            }

            return root;
        }
        catch (XmlException ex)
        {
            s.Add(Math.Max(ex.LineNumber, 1), Math.Max(ex.LinePosition, 1), true, "the file is not well-formed XML: " + FirstSentence(ex.Message), "fix the XML at this place (an unclosed tag or quote, or a bare '<' or '&' in a value)");
            return null;
        }
    }

    /// <summary>Maps <c>&lt;service&gt;</c> and its sections; returns whether it has a <c>&lt;user&gt;</c> section.</summary>
    private static bool MapService(XElement service, ModuleDraft draft, SafeKitImportRequest request, SafeKitSource s)
    {
        s.Claim(service, "mode", "boot", "boot_delay", "maxloop", "loop_interval", "automatic_reboot", "failover", "defaultprim");
        string? mode = s.Attr(service, "mode");
        if (mode != "farm")
        {
            s.Error((XObject?)service.Attribute("mode") ?? service, $"mode=\"{mode}\": only farm modules can be imported", mode == "mirror"
                ? "a mirror module replicates files between two nodes, which Farm does not do; for an active/passive service write a module with 'mode: single' by hand"
                : "set mode=\"farm\"");
            return false;
        }

        if (s.Attr(service, "boot") == "off")
        {
            s.Warn(service.Attribute("boot")!, "boot=\"off\": farmd starts every module it loads when it starts", "install the module only when it should run, or stop it after boot with 'farmctl stop'");
        }

        foreach (var name in new[] { "boot_delay", "automatic_reboot" })
        {
            if (service.Attribute(name) is { } a)
            {
                s.Warn(a, $"{name}: no equivalent in Farm", name == "boot_delay" ? "delay farmd's start in its service unit if needed" : "nothing to do; a stopstart restarts the application, never the machine");
            }
        }

        MapRecovery(service, draft, s);

        // The VIP section first: it names the interface that interface checkers use.
        foreach (var vip in service.Elements("vip"))
        {
            SafeKitVipMapper.Map(vip, draft, s, request.Interface);
        }

        if (string.IsNullOrEmpty(draft.Interface.Value))
        {
            draft.Interface = (SafeKitVipMapper.DefaultInterface, null);
            s.Warn(service.Element("vip") ?? service, $"no <interface> names the VIPs' interface; '{SafeKitVipMapper.DefaultInterface}' was written", "pass --interface NAME to the import, or edit 'interface:' in farm.yaml");
        }

        XElement? user = null;
        foreach (var section in service.Elements())
        {
            switch (section.Name.LocalName)
            {
                case "farm":
                    MapFarm(section, s);
                    break;
                case "vip":
                    break;
                case "user":
                    user = section;
                    MapUser(section, draft, s);
                    break;
                case "check":
                    SafeKitCheckerMapper.MapCheck(section, draft, s);
                    break;
                case "errd":
                    SafeKitCheckerMapper.MapErrd(section, draft, s);
                    break;
                default:
                    s.Unhandled(section, NoEquivalent);
                    break;
            }
        }

        if (service.Element("vip") is null)
        {
            s.Error(service, "the module has no <vip>: a Farm module serves at least one virtual IP", "add the <vip> section with its <virtual_addr> and <loadbalancing_list>, or write farm.yaml by hand");
        }
        else if (!service.Element("vip")!.Descendants("virtual_addr").Any())
        {
            s.Error(service.Element("vip")!, "<vip> has no <virtual_addr>", "add <virtual_addr addr=\"…\" where=\"alias\"/> in <virtual_interface>");
        }
        else if (draft.Rules.Count == 0 && !s.HasErrors)
        {
            s.Error(service.Element("vip")!, "<vip> has no tcp or udp load-balancing <rule>", "add <loadbalancing_list><group name=\"g\"><rule port=\"80\" proto=\"tcp\" filter=\"on_addr\"/></group></loadbalancing_list>");
        }

        return user is not null;
    }

    private static void MapRecovery(XElement service, ModuleDraft draft, SafeKitSource s)
    {
        if (service.Attribute("maxloop") is { } maxloop)
        {
            string value = s.Attr(service, "maxloop") ?? "";
            draft.Settings.Add(("recovery", "maxloop", value.Length > 0 && value.All(char.IsAsciiDigit) ? value : ModuleYamlWriter.Quote(value), maxloop));
        }

        if (s.Duration(service, "loop_interval", "h") is { } interval)
        {
            if (interval == TimeSpan.Zero)
            {
                s.Warn(service.Attribute("loop_interval")!, "loop_interval=\"0\" turns SafeKit's maxloop off; Farm always counts recoveries", "imported as maxloop 1000 within 1m, which never stops the module in practice");
                draft.Settings.RemoveAll(x => x.Key == "maxloop");
                draft.Settings.Add(("recovery", "maxloop", "1000", service.Attribute("loop_interval")!));
                draft.Settings.Add(("recovery", "loop_interval", "1m", service.Attribute("loop_interval")!));
            }
            else
            {
                draft.Settings.Add(("recovery", "loop_interval", SafeKitSource.Format(interval), service.Attribute("loop_interval")!));
            }
        }
    }

    private static void MapFarm(XElement farm, SafeKitSource s)
    {
        s.Claim(farm, "port", "pulse", "mlost_count", "slost_count");
        foreach (var a in farm.Attributes())
        {
            string hint = a.Name.LocalName switch
            {
                "port" => "Farm's membership uses the cluster's grpc_port (TCP) for every module; open it between the nodes",
                "pulse" => "set 'heartbeat.interval' in the cluster file (it applies to every module)",
                _ => "set 'heartbeat.detection_timeout' in the cluster file (SafeKit's count × pulse); it applies to every module",
            };
            s.Warn(a, $"attribute '{a.Name.LocalName}' of <farm>: Farm's membership is one per cluster, not per module", hint);
        }

        foreach (var child in s.Children(farm, "lan"))
        {
            s.Claim(child, "name");
            string name = s.Attr(child, "name") ?? "";
            if (child.Elements("node").Any())
            {
                s.Warn(child, $"<lan> lists <node> elements (SafeKit before 7.2): Farm's nodes and their addresses are in the cluster file", "list each node with one address per LAN under 'nodes:' in the cluster file");
            }
            else if (name != "default")
            {
                s.Warn(child, $"heartbeat LAN '{name}': Farm's heartbeat LANs are set once for the cluster, in the cluster file", $"list '{ConfigNames.Suggest(name)}' under 'lans:' in the cluster file, and one address on it per node");
            }
        }
    }

    private static void MapUser(XElement user, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(user, "nicestoptimeout", "forcestoptimeout", "logging", "userlogsize");
        var nice = s.Duration(user, "nicestoptimeout", "s") ?? SafeKitStopTimeout;
        var force = s.Duration(user, "forcestoptimeout", "s") ?? SafeKitStopTimeout;
        if (force > MaxStopForce)
        {
            s.Warn(user.Attribute("forcestoptimeout") ?? (XObject)user, $"forcestoptimeout {SafeKitSource.Format(force)}: Farm's timeouts.stop_force is at most {SafeKitSource.Format(MaxStopForce)}; {SafeKitSource.Format(MaxStopForce)} was written", "nothing to do unless the forced stop takes longer");
            force = MaxStopForce;
        }

        draft.Settings.Add(("timeouts", "stop", SafeKitSource.Format(nice), (XObject?)user.Attribute("nicestoptimeout") ?? user));
        draft.Settings.Add(("timeouts", "stop_force", SafeKitSource.Format(force), (XObject?)user.Attribute("forcestoptimeout") ?? user));
        foreach (var name in new[] { "logging", "userlogsize" })
        {
            if (user.Attribute(name) is { } a)
            {
                s.Warn(a, $"{name}: Farm logs every line a script writes, with the module's log ('farmctl logs MODULE')", "nothing to do");
            }
        }
    }

    private static List<(string, string)> Variables(XElement service, SafeKitSource s)
    {
        var variables = new List<(string, string)>();
        foreach (var user in service.Elements("user"))
        {
            foreach (var child in s.Children(user, "var"))
            {
                s.Claim(child, "name", "value");
                if (s.Required(child, "name", "NAME") is not { } name)
                {
                    continue;
                }

                if (!ShellName().IsMatch(name) || name.StartsWith("FARM_", StringComparison.Ordinal) || name is "PATH" or "HOME" or "LANG")
                {
                    s.Warn(child, $"variable '{name}' cannot be passed to the scripts: it is not a shell variable name, or Farm sets it", "rename it in userconfig.xml and in the scripts");
                    continue;
                }

                variables.Add((name, s.Attr(child, "value") ?? ""));
            }
        }

        return variables;
    }

    private static IEnumerable<string> Header(SafeKitImportRequest request, SafeKitSource s)
    {
        yield return $"Imported from the SafeKit module file {Path.GetFileName(request.XmlFile)} by 'farmctl import safekit'.";
        var warnings = s.Messages.Where(m => !m.IsError).ToList();
        yield return "Each checker names the line of the element it comes from. " + (warnings.Count == 0
            ? "Every setting has an equivalent."
            : "Settings without an equivalent (the import printed what to do for each):");
        foreach (var warning in warnings)
        {
            string where = warning.File == request.XmlFile ? $"line {warning.Line}" : $"{Path.GetFileName(warning.File)}:{warning.Line}";
            yield return "  " + $"{where}: {warning.Message}".ReplaceLineEndings(" ");
        }
    }

    /// <summary>Parses the farm.yaml made with the parser of <c>farmctl config check</c>; each error is reported at the XML node of its line.</summary>
    private static void Validate(ModuleYamlWriter yaml, SafeKitSource s)
    {
        var parsed = ConfigParser.ParseModule(yaml.Text, "farm.yaml");
        // One value can land in two places (the module's interface and its interface checker): say it once.
        foreach (var error in parsed.Errors.DistinctBy(e => (e.Message, e.Hint)))
        {
            var (line, column) = yaml.SourceOf(error.Line) is { } from ? SafeKitSource.Position(from) : (1, 1);
            s.Add(line, column, true, "not valid in Farm: " + error.Message, error.Hint);
        }
    }

    private static ImportedFile Text(string path, string content, bool executable) => new(path, Encoding.UTF8.GetBytes(content), executable);

    // XmlException ends its message with "Line N, position M.", which the location already says.
    private static string FirstSentence(string message) =>
        message.Split(" Line ", 2)[0].TrimEnd('.', ' ') is { Length: > 0 } m ? char.ToLowerInvariant(m[0]) + m[1..] : message;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex ShellName();
}
