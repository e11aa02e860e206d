using System.Text.Json;
using Farm.Protocol.V1;

namespace Farm.Cli.Modules;

/// <summary>
/// <c>farmctl start|stop|restart MODULE [--node N]... [--all] [--wait DURATION] [--json]</c>: the action on this node,
/// or (through the local farmd, which relays it over TCP sealed with the cluster key) on other nodes.
/// </summary>
internal static class ModuleCommand
{
    /// <summary>Default of <c>--wait</c>.</summary>
    public const string DefaultWait = "60s";

    /// <summary>The longest <c>--wait</c>: farmd honours no longer (ModuleControl.MaxWait).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    public static Command Create(CliContext context, ModuleAction action)
    {
        ArgumentNullException.ThrowIfNull(context);
        string verb = action switch
        {
            ModuleAction.Start => "start",
            ModuleAction.Stop => "stop",
            _ => "restart",
        };
        var module = new Argument<string>("MODULE") { Description = "The module's name (its folder under farmd's --modules)." };
        var selection = new NodeSelection();
        var (nodes, all) = (selection.Nodes, selection.All);
        var wait = new Option<string>("--wait")
        {
            Description = "Wait until the module settles (no transition in progress), at most this long; 0s returns once farmd took the request.",
            HelpName = "DURATION",
            DefaultValueFactory = _ => DefaultWait,
        };
        var json = AdminCommandRunner.JsonOption();
        var connection = new AdminConnectionOptions();
        string summary = action switch
        {
            ModuleAction.Start => "Start a module (prestart, start_both, checkers, then it joins the module's view) and reset its recovery count.",
            ModuleAction.Stop => "Stop a module: it leaves the module's view (peers take its buckets), then stop_both and poststop run.",
            _ => "Restart a module: full stop, then full start; resets its recovery count.",
        };
        var command = AdminCommandRunner.Create(context, verb, summary, [module, nodes, all, wait, json], async (parseResult, admin, ct) =>
        {
            _ = ConfigDuration.TryParse(parseResult.GetValue(wait) ?? DefaultWait, out var waitFor, out _);
            var query = new ModuleControlQuery
            {
                Module = parseResult.GetValue(module)!,
                Action = action,
                AllNodes = parseResult.GetValue(all),
                RequestedBy = "farmctl@" + Environment.MachineName,
                WaitMs = (long)waitFor.TotalMilliseconds,
            };
            query.Nodes.Add(parseResult.GetValue(nodes) ?? []);
            var answer = await admin.ControlModuleAsync(query, waitFor, ct);
            var results = answer.Results.Select(r => (r, Outcome(r, action, waitFor > TimeSpan.Zero))).ToList();
            if (parseResult.GetValue(json))
            {
                await context.Output.WriteLineAsync(Json(query.Module, verb, results));
            }
            else
            {
                ModuleTables.RenderResults(context.Terminal.CreateConsole(context.Output), query.Module, results);
            }

            return results.All(r => r.Item2 is "done" or "accepted") ? CliApp.ExitOk : CliApp.ExitFailed;
        }, connection);
        command.Validators.Add(result =>
        {
            selection.Validate(result, connection);

            if (result.GetValue(wait) is { } w)
            {
                if (!ConfigDuration.TryParse(w, out var span, out _) || span < TimeSpan.Zero)
                {
                    result.AddError($"--wait '{w}' is not a duration ({ConfigDuration.FormatHint}).");
                }
                else if (span > MaxWait)
                {
                    // farmd waits at most this long anyway; a larger value would only overflow the call's deadline.
                    result.AddError($"--wait '{w}' is longer than {ConfigDuration.Format(MaxWait)}, the longest farmd waits.");
                }
            }
        });
        return command;
    }

    /// <summary>
    /// "done": settled where the action aims (start/restart: UP/Ready; stop: STOP/Ready); "accepted": taken, not waited
    /// for; "pending": still in transition when the wait ended; "failed": not delivered, or settled elsewhere.
    /// </summary>
    public static string Outcome(ModuleControlResult result, ModuleAction action, bool waited)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Error.Length > 0 || result.Module is null)
        {
            return "failed";
        }

        var m = result.Module;
        bool aimed = m.SubState == ModuleSubState.Ready && m.State == (action == ModuleAction.Stop ? ModuleRunState.Stop : ModuleRunState.Up);
        if (aimed)
        {
            return "done";
        }

        if (!waited)
        {
            return "accepted";
        }

        return result.Settled ? "failed" : "pending";
    }

    private static string Json(string module, string verb, List<(ModuleControlResult Result, string Outcome)> results) => JsonText.FormatObject(
        w =>
        {
            w.WriteString("module", module);
            w.WriteString("action", verb);
            w.WriteObjects("results", results, WriteResult);
        },
        indented: true);

    private static void WriteResult(Utf8JsonWriter w, (ModuleControlResult Result, string Outcome) item)
    {
        var (r, outcome) = item;
        w.WriteString("node", r.Node);
        w.WriteString("outcome", outcome);
        w.WriteBoolean("settled", r.Settled);
        w.WriteStringOrNull("error", r.Error);
        w.WritePropertyName("state");
        if (r.Module is { } m)
        {
            ModuleJson.Write(w, m);
        }
        else
        {
            w.WriteNullValue();
        }
    }
}
