using Farm.Protocol.V1;
using Spectre.Console;

namespace Farm.Cli.Status;

/// <summary>
/// <c>farmctl status</c> for people: a header line, one row per node (state, incarnation, view, weight, one column per
/// module and per LAN, config agreement), then config mismatches with both hashes and the rejected-message counters.
/// </summary>
internal static class StatusTable
{
    /// <summary>Writes the report to <paramref name="console"/>.</summary>
    public static void Render(IAnsiConsole console, NodeStatusReport report, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var c = CultureInfo.InvariantCulture;
        string view = report.InstalledEpoch > 0
            ? $"view epoch {report.InstalledEpoch.ToString(c)} by {report.Coordinator}"
            : "no view installed yet";
        var self = report.Nodes.FirstOrDefault(n => n.IsSelf);
        string leaving = self is not null && self.DrainState != DrainState.None ? ", " + StatusWords.Drain(self.DrainState) : report.Leaving ? ", leaving" : "";
        console.MarkupLine(
            $"Cluster [bold]{Markup.Escape(report.Cluster)}[/] as seen by [bold]{Markup.Escape(report.Node)}[/] " +
            $"(incarnation {report.Incarnation.ToString(c)}{leaving}), {Markup.Escape(view)}, config {StatusFormat.ShortHash(report.ConfigHash)} version {report.ConfigVersion.ToString(c)}");

        var modules = report.Nodes.SelectMany(n => n.Buckets.Select(b => b.Module)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var lans = report.Nodes.SelectMany(n => n.Lans.Select(l => l.Lan)).Distinct(StringComparer.Ordinal).ToList();
        var table = new Table();
        table.AddColumns("NODE", "STATE", "INCARNATION", "VIEW", "WEIGHT");
        foreach (string module in modules)
        {
            table.AddColumn(Markup.Escape(module.ToUpperInvariant()));
        }

        foreach (string lan in lans)
        {
            table.AddColumn("LAN " + Markup.Escape(lan));
        }

        table.AddColumn("CONFIG");
        CliTerminal.Style(console, table);

        foreach (var node in report.Nodes)
        {
            var cells = new List<string>
            {
                Markup.Escape(node.Name) + (node.IsSelf ? " *" : ""),
                StateCell(node),
                node.Incarnation > 0 ? node.Incarnation.ToString(c) : "-",
                node.InView ? "yes" : "no",
                node.Weight.ToString(c),
            };
            cells.AddRange(modules.Select(m => ModuleCell(node.Buckets.FirstOrDefault(b => b.Module == m))));
            cells.AddRange(lans.Select(l => LanCell(node, node.Lans.FirstOrDefault(x => x.Lan == l))));
            cells.Add(node.ConfigMatches ? "same" : $"[yellow]differs {StatusFormat.ShortHash(node.ConfigHash)}[/]");
            table.AddRow(cells.ToArray());
        }

        console.Write(table);
        console.MarkupLine("[grey]* the node that answered; share = buckets of the module in the installed view; +in/-out = buckets taken over / handed over[/]");
        Modules.ModuleTables.RenderModules(console, report.Node, report.Modules, (timeProvider ?? TimeProvider.System).GetUtcNow());

        foreach (var mismatch in report.ConfigMismatches)
        {
            console.MarkupLine(
                $"[yellow]Config differs on {Markup.Escape(mismatch.Node)}[/]: theirs {mismatch.TheirHash}, ours {mismatch.OurHash} (copy the same cluster file to every node)");
        }

        foreach (var mismatch in report.ModuleMismatches)
        {
            console.MarkupLine(
                $"[yellow]Module {Markup.Escape(mismatch.Module)} differs on {Markup.Escape(mismatch.Node)}[/]: {Markup.Escape(string.Join(", ", mismatch.Settings))} " +
                $"(theirs {StatusFormat.ShortHash(mismatch.TheirHash)}, agreed {StatusFormat.ShortHash(mismatch.AgreedHash)}); it gets none of the module's buckets " +
                $"(make its farm.yaml match the other nodes', then 'farmctl module reload {Markup.Escape(mismatch.Module)}' there)");
        }

        if (report.Rejected.Count == 0)
        {
            console.WriteLine("Rejected messages: none");
            return;
        }

        console.WriteLine("Rejected messages:");
        var rejected = new Table();
        rejected.AddColumns("SOURCE", "REASON", "COUNT", "LAST CLAIMED SENDER");
        CliTerminal.Style(console, rejected);
        foreach (var r in report.Rejected.OrderBy(r => r.Source, StringComparer.Ordinal).ThenBy(r => r.Reason, StringComparer.Ordinal))
        {
            rejected.AddRow(Markup.Escape(r.Source), Markup.Escape(r.Reason), r.Count.ToString(c), Markup.Escape(r.LastClaimedSender));
        }

        console.Write(rejected);
    }

    private static string StateCell(NodeStatus node)
    {
        string text = StatusWords.State(node.State)
            + (node.DrainState != DrainState.None ? ", " + StatusWords.Drain(node.DrainState) : node.Leaving ? ", leaving" : "");
        return node.State switch
        {
            NodeState.Up => $"[green]{text}[/]",
            NodeState.Down => $"[red]{text}[/]",
            NodeState.Excluded => $"[yellow]{text}[/]",
            _ => $"[grey]{text}[/]",
        };
    }

    private static string ModuleCell(ModuleBuckets? module)
    {
        if (module is null)
        {
            return "-";
        }

        var c = CultureInfo.InvariantCulture;
        string readiness = StatusWords.Readiness(module.Readiness).Replace('_', ' ');
        string share = $"{StatusWords.SharePercent(module).ToString("0.00", c)}% {module.Buckets.ToString(c)}/{module.BucketCount.ToString(c)}";
        string handover = (module.HasIncoming && module.Incoming > 0 ? $" +{module.Incoming.ToString(c)} in" : "")
            + (module.HasDraining && module.Draining > 0 ? $" -{module.Draining.ToString(c)} out" : "")
            + (module.HasOldestDrainAgeMs ? $" (oldest {StatusFormat.Age(module.OldestDrainAgeMs)})" : "");
        string color = module.Readiness switch
        {
            ModuleReadiness.Ready => "green",
            ModuleReadiness.NotReady => "red",
            _ => "grey",
        };
        return $"[{color}]{readiness}[/] {share}{handover}";
    }

    private static string LanCell(NodeStatus node, LanReachability? lan)
    {
        if (lan is null)
        {
            return "-";
        }

        string address = Markup.Escape(lan.Address);
        if (node.IsSelf)
        {
            return address;
        }

        if (lan.LastHeardAgeMs < 0)
        {
            return $"{address} [grey]never heard[/]";
        }

        string age = StatusFormat.Age(lan.LastHeardAgeMs) + " ago";
        return lan.Reachable ? $"{address} [green]up[/] {age}" : $"{address} [red]down[/] {age}";
    }
}
