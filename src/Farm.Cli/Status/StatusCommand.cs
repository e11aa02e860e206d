using Farm.Protocol.V1;
using Spectre.Console;

namespace Farm.Cli.Status;

/// <summary><c>farmctl status [--watch] [--json]</c>: the farm as one node sees it.</summary>
internal static class StatusCommand
{
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow changes live (a new status on every change) until Ctrl-C." };
        var json = AdminCommandRunner.JsonOption("one JSON object (one per line with --watch)");
        return AdminCommandRunner.Create(
            context,
            "status",
            "Show the nodes (state, incarnation, view, share of each module's buckets, reachability per LAN, config agreement) and the rejected-message counters.",
            [watch, json],
            async (parseResult, admin, ct) =>
            {
                bool asJson = parseResult.GetValue(json);
                if (!parseResult.GetValue(watch))
                {
                    Print(context, await admin.GetStatusAsync(ct), asJson, watching: false);
                    return CliApp.ExitOk;
                }

                await foreach (var report in admin.WatchStatusAsync(ct))
                {
                    Print(context, report, asJson, watching: true);
                }

                // The watch ends only when Ctrl-C cancelled it: the normal way out.
                return CliApp.ExitOk;
            });
    }

    private static void Print(CliContext context, NodeStatusReport report, bool asJson, bool watching)
    {
        if (asJson)
        {
            context.Output.WriteLine(StatusJson.Format(report, indented: !watching));
            context.Output.Flush();
            return;
        }

        var console = context.Terminal.CreateConsole(context.Output);
        if (watching)
        {
            string time = context.TimeProvider.GetLocalNow().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
            if (context.Terminal.IsTerminal)
            {
                console.Clear(home: true);
                console.WriteLine($"{time}  farmctl status --watch (Ctrl-C to stop)");
            }
            else
            {
                console.WriteLine($"--- {time} ---");
            }
        }

        StatusTable.Render(console, report, context.TimeProvider);
        context.Output.Flush();
    }
}
