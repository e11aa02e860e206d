using Farm.Cli.Status;
using Farm.Protocol.V1;
using Spectre.Console;

namespace Farm.Cli.Modules;

/// <summary>The module section of <c>farmctl status</c> and the result table of <c>farmctl start|stop|restart</c>.</summary>
internal static class ModuleTables
{
    /// <summary>One row per module of the answering node, then one row per checker.</summary>
    public static void RenderModules(IAnsiConsole console, string node, IReadOnlyList<ModuleReport> modules, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(modules);
        if (modules.Count == 0)
        {
            return;
        }

        var c = CultureInfo.InvariantCulture;
        console.MarkupLine($"Modules on [bold]{Markup.Escape(node)}[/]:");
        var table = new Table();
        table.AddColumns("MODULE", "MODE", "STATE", "SINCE", "STEP", "TRAFFIC", "PRIMARY", "RECOVERIES", "REASON");
        CliTerminal.Style(console, table);
        foreach (var m in modules)
        {
            long age = Math.Max(0, now.ToUnixTimeMilliseconds() - m.SinceUnixMs);
            table.AddRow(
                Markup.Escape(m.Module),
                m.Mode,
                StateCell(m),
                StatusFormat.Age(age) + " ago",
                m.Step.Length > 0 ? Markup.Escape(m.Step) : "-",
                m.TrafficOpen ? "[green]open[/]" : m.DataPlane is "running" or "off" ? "closed" : $"[red]closed, data plane {Markup.Escape(m.DataPlane)}[/]",
                m.Mode == "single" ? (m.Primary ? "[green]yes[/]" : "no") : "-",
                $"{m.RecoveryCount.ToString(c)}/{m.MaxLoop.ToString(c)}",
                Markup.Escape(m.Reason));
        }

        console.Write(table);
        if (!modules.Any(m => m.Checkers.Count > 0))
        {
            return;
        }

        var checkers = new Table();
        checkers.AddColumns("MODULE", "CHECKER", "TYPE", "ACTION", "RESULT", "DETAIL");
        CliTerminal.Style(console, checkers);
        foreach (var m in modules)
        {
            foreach (var ch in m.Checkers)
            {
                string result = ModuleFormat.Checker(ch);
                checkers.AddRow(
                    Markup.Escape(m.Module),
                    Markup.Escape(ch.Name),
                    ch.Type,
                    ch.Action,
                    result switch { "up" => "[green]up[/]", "down" => "[red]down[/]", _ => "-" },
                    Markup.Escape(ch.Detail));
            }
        }

        console.Write(checkers);
    }

    /// <summary>One row per node asked: what became of the action there.</summary>
    public static void RenderResults(IAnsiConsole console, string module, IReadOnlyList<(ModuleControlResult Result, string Outcome)> results)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(results);
        var table = new Table();
        table.AddColumns("NODE", "MODULE", "RESULT", "STATE", "PRIMARY", "REASON");
        CliTerminal.Style(console, table);
        foreach (var (r, outcome) in results)
        {
            string color = outcome switch { "done" => "green", "failed" => "red", _ => "yellow" };
            var m = r.Module;
            table.AddRow(
                Markup.Escape(r.Node),
                Markup.Escape(module),
                $"[{color}]{outcome}[/]",
                m is null ? "-" : StateCell(m),
                m is null || m.Mode != "single" ? "-" : m.Primary ? "yes" : "no",
                Markup.Escape(r.Error.Length > 0 ? r.Error : m?.Reason ?? ""));
        }

        console.Write(table);
    }

    private static string StateCell(ModuleReport m)
    {
        string text = ModuleFormat.Combined(m);
        return m.SubState switch
        {
            ModuleSubState.Ready when m.State == ModuleRunState.Up => $"[green]{text}[/]",
            ModuleSubState.NotReady => $"[red]{text}[/]",
            ModuleSubState.Transient => $"[yellow]{text}[/]",
            _ => text,
        };
    }
}
