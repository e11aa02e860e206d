using System.Xml.Linq;

namespace Farm.Cli.Import;

/// <summary>
/// Maps <c>&lt;check&gt;</c> (tcp, ping, intf, custom) and <c>&lt;errd&gt;</c> (process and service monitoring) to
/// Farm checkers. SafeKit's <c>when="pre"</c> (from prestart to poststop) becomes two checkers: a precondition
/// (<c>when: before_start</c>, action wait) and the same check while the module runs.
/// </summary>
internal static class SafeKitCheckerMapper
{
    private static readonly TimeSpan CheckerInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CheckerTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ErrdPoll = TimeSpan.FromSeconds(30);

    /// <summary>The checkers Farm has no equivalent for, and what to do instead.</summary>
    private static readonly Dictionary<string, (string Message, string Hint)> NoEquivalent = new(StringComparer.Ordinal)
    {
        ["ip"] = ("<ip> checker: farmd binds the module's VIPs itself (on lo) while the module runs", "nothing to do"),
        ["module"] = ("<module> checker: Farm modules do not depend on each other", "add a tcp checker on the other application's port with 'when: before_start' and 'action: wait'"),
        ["splitbrain"] = ("<splitbrain> checker: split-brain handling is a cluster setting in Farm", "set 'split_brain: { policy: witness, witness: ADDRESS }' in the cluster file"),
    };

    public static void MapCheck(XElement check, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(check);
        foreach (var checker in check.Elements())
        {
            switch (checker.Name.LocalName)
            {
                case "tcp":
                    MapTo(checker, "tcp", "restart", draft, s, to => [("address", Quoted(s.Required(to, "addr", "127.0.0.1"))), ("port", Number(s.Required(to, "port", "80")))]);
                    break;
                case "ping":
                    MapTo(checker, "ping", "wait", draft, s, to => [("address", Quoted(s.Required(to, "addr", "198.18.0.254")))]);
                    break;
                case "intf":
                    MapInterfaceChecker(checker, draft, s);
                    break;
                case "custom":
                    MapCustom(checker, draft, s);
                    break;
                default:
                    s.Unhandled(checker, NoEquivalent);
                    break;
            }
        }
    }

    public static void MapErrd(XElement errd, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(errd, "polltimer");
        var interval = s.Duration(errd, "polltimer", "s") ?? ErrdPoll;
        foreach (var proc in s.Children(errd, "proc"))
        {
            s.Claim(proc, "name", "service", "nameregex", "argregex", "atleast", "atmax", "action", "class", "start_after", "restart_services");
            if (s.Required(proc, "name", "myproc") is not { } name)
            {
                continue;
            }

            string? action = Action(proc, s.Attr(proc, "action") ?? "stopstart", "proc", s);
            if (action is null)
            {
                continue;
            }

            foreach (string attribute in new[] { "start_after", "restart_services" })
            {
                if (proc.Attribute(attribute) is { } a)
                {
                    s.Warn(a, $"{attribute}: no equivalent in Farm", attribute == "start_after"
                        ? "Farm gives every checker timeouts.start after start_both to pass; raise timeouts.start if the process starts slowly"
                        : "Farm's restart runs stop_both and start_both whole");
                }
            }

            var timeout = interval > CheckerTimeout * 2 ? CheckerTimeout : interval / 2;
            List<(string, string)> fields;
            string type;
            if (s.Attr(proc, "service") == "yes")
            {
                type = "custom";
                string script = "checkers/" + ConfigNameFor(draft, name);
                draft.GeneratedScripts[script] = SafeKitScripts.ServiceChecker(name);
                fields = [("script", ModuleYamlWriter.Quote(script))];
            }
            else
            {
                type = "process";
                string? regex = s.Attr(proc, "argregex") ?? s.Attr(proc, "nameregex");
                foreach (var a in new[] { proc.Attribute("nameregex"), proc.Attribute("argregex") }.OfType<XAttribute>())
                {
                    s.Warn(a, $"{a.Name.LocalName}: Farm matches a process checker's regex against the whole command line (/proc/PID/cmdline), with .NET syntax", "check the imported regex against 'ps -eo args'" + (proc.Attribute("nameregex") is not null && proc.Attribute("argregex") is not null ? "; only argregex was imported" : ""));
                }

                fields = regex is null ? [("process", ModuleYamlWriter.Quote(name))] : [("regex", ModuleYamlWriter.Quote(regex))];
                int min = Count(s.Attr(proc, "atleast"), 1);
                fields.Add(("min", Math.Max(min, 0).ToString(CultureInfo.InvariantCulture)));
                if (s.Attr(proc, "atmax") is { } atmax && atmax != "-1")
                {
                    fields.Add(("max", Number(atmax)));
                }
            }

            AddWithWhen(proc, name, type, fields, s.Attr(proc, "class") ?? "both", action, interval, timeout, draft, s);
        }
    }

    private static void MapTo(XElement checker, string type, string defaultAction, ModuleDraft draft, SafeKitSource s, Func<XElement, List<(string, string)>> fields)
    {
        s.Claim(checker, "ident", "when", "action");
        var targets = s.Children(checker, "to");
        if (targets.Count == 0)
        {
            s.Error(checker, $"<{type}> has no <to> element", $"add <to addr=\"...\"{(type == "tcp" ? " port=\"...\"" : "")}/>");
            return;
        }

        var to = targets[0];
        s.Claim(to, "addr", "port", "interval", "timeout");
        foreach (var extra in targets.Skip(1))
        {
            s.Warn(extra, "a second <to>: a Farm checker tests one target; this one was not imported", "add another checker for it in farm.yaml");
        }

        string ident = s.Attr(checker, "ident") ?? type;
        string? action = Action(checker, s.Attr(checker, "action") ?? defaultAction, type, s);
        var interval = s.Duration(to, "interval", "s") ?? CheckerInterval;
        var timeout = s.Duration(to, "timeout", "s") ?? CheckerTimeout;
        if (action is not null)
        {
            AddWithWhen(checker, ident, type, fields(to), s.Attr(checker, "when") ?? (type == "ping" ? "pre" : "both"), action, interval, timeout, draft, s);
        }
    }

    private static void MapInterfaceChecker(XElement intf, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(intf, "ident", "when");
        if (s.Children(intf, "to").FirstOrDefault() is { } to)
        {
            s.Claim(to, "local_addr");
            s.Warn(to, $"<intf> names the interface by its address{(s.Attr(to, "local_addr") is { } a ? " " + a : "")}; Farm names it: the module's interface '{draft.Interface.Value}' was written", "if the address is on another interface, set that checker's 'interface:' to its name ('ip -br addr' shows it)");
        }

        string ident = s.Attr(intf, "ident") ?? "intf";
        draft.Checkers.Add(new CheckerDraft(draft.CheckerName(ident), "interface", [("interface", ModuleYamlWriter.Quote(draft.Interface.Value)), ("action", "wait")], intf));
    }

    private static void MapCustom(XElement custom, ModuleDraft draft, SafeKitSource s)
    {
        s.Claim(custom, "ident", "when", "exec", "arg", "action");
        if (s.Required(custom, "ident", "appchecker") is not { } ident || s.Required(custom, "exec", "mychecker") is not { } exec)
        {
            return;
        }

        // SafeKit < 8 had no action attribute: the action was a <failover> rule, hence the default noaction.
        string? action = Action(custom, s.Attr(custom, "action") ?? "noaction", "custom", s);
        if (action is null)
        {
            return;
        }

        string script = "checkers/" + ConfigNameFor(draft, ident);
        draft.GeneratedScripts[script] = SafeKitScripts.CustomCheckerAdapter(ident, exec, s.Attr(custom, "arg") ?? "");
        AddWithWhen(custom, ident, "custom", [("script", ModuleYamlWriter.Quote(script))], s.Attr(custom, "when") ?? "both", action, CheckerInterval, CheckerTimeout, draft, s);
    }

    /// <summary>Farm's action for SafeKit's, or null when the checker is left out (a warning says why).</summary>
    private static string? Action(XElement checker, string action, string kind, SafeKitSource s)
    {
        switch (action)
        {
            case "restart" or "stopstart" or "stop" or "wait":
                return action;
            case "noaction":
                var at = (XObject?)checker.Attribute("action") ?? checker;
                if (kind == "proc")
                {
                    s.Warn(at, "action=\"noaction\" (log only): a Farm checker always acts; this process was not imported", "add it as a process checker with the action a failure should take, if any");
                    return null;
                }

                s.Warn(at, "no action of its own (noaction; SafeKit's action is then in a <failover> rule, which Farm does not have): imported with action restart (wait for when=\"pre\")", "set 'action:' of this checker to what the <failover> rule did");
                return "restart";
            default:
                s.Warn(checker.Attribute("action") ?? (XObject)checker, $"action=\"{action}\" (a handler script): Farm checkers take one of restart, stopstart, stop, wait; imported with stopstart, what SafeKit does when a handler fails", "move the handler's work into stop_both/start_both");
                return "stopstart";
        }
    }

    private static void AddWithWhen(XElement from, string ident, string type, List<(string, string)> fields, string when, string action, TimeSpan interval, TimeSpan timeout, ModuleDraft draft, SafeKitSource s)
    {
        List<(string, string)> Timing() => [("interval", SafeKitSource.Format(interval)), ("timeout", SafeKitSource.Format(timeout))];
        switch (when)
        {
            case "both":
                break;
            case "pre":
                // A precondition before prestart, then the same check while the module runs.
                draft.Checkers.Add(new CheckerDraft(draft.CheckerName(ident + "-pre"), type, [.. fields, .. Timing(), ("when", "before_start"), ("action", "wait")], from));
                action = "wait"; // SafeKit allows only wait (or noaction) with when="pre"
                break;
            case "prim" or "second" or "sec":
                s.Warn(from.Attribute(from.Name.LocalName == "proc" ? "class" : "when") ?? (XObject)from, $"'{when}' applies to a mirror module's {(when == "prim" ? "primary" : "secondary")}: a Farm checker runs on every node while the module runs", "nothing to do for a farm");
                break;
            default:
                s.Warn(from.Attribute("class") ?? from.Attribute("when") ?? (XObject)from, $"'{when}' is switched on and off by 'safekit errd enable|disable' in SafeKit: a Farm checker runs whenever the module runs", "nothing to do; remove the safekit errd calls from the scripts");
                break;
        }

        draft.Checkers.Add(new CheckerDraft(draft.CheckerName(ident), type, [.. fields, .. Timing(), ("action", action)], from));
    }

    private static string ConfigNameFor(ModuleDraft draft, string wanted) => draft.CheckerName(wanted);

    private static string Quoted(string? value) => ModuleYamlWriter.Quote(value ?? "");

    // Digits stay a number; anything else is quoted so farm.yaml's validation names it at this element.
    private static string Number(string? value) =>
        value is { Length: > 0 } && value.All(char.IsAsciiDigit) ? value : ModuleYamlWriter.Quote(value ?? "");

    private static int Count(string? value, int fallback) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : fallback;
}
