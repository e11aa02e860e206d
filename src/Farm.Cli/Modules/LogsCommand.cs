using Farm.Core.Text;
using Farm.Protocol.V1;

namespace Farm.Cli.Modules;

/// <summary><c>farmctl logs MODULE [--follow] [--lines N] [--json]</c>: the module's log lines kept by farmd on one node.</summary>
internal static class LogsCommand
{
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var module = new Argument<string>("MODULE") { Description = "The module's name." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines as they come, until Ctrl-C." };
        var lines = new Option<int>("--lines", "-n")
        {
            Description = "How many of the most recent lines to print first; 0 for all that farmd keeps (2000).",
            HelpName = "N",
            DefaultValueFactory = _ => 100,
        };
        lines.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--lines must be 0 or more.");
            }
        });
        var json = AdminCommandRunner.JsonOption("one JSON object per line (NDJSON)");
        return AdminCommandRunner.Create(
            context,
            "logs",
            "Show a module's log on the node: state changes and their reasons, script output, checker verdicts, traffic gate.",
            [module, follow, lines, json],
            async (parseResult, admin, ct) =>
            {
                var query = new ModuleLogsQuery { Module = parseResult.GetValue(module)!, Tail = parseResult.GetValue(lines), Follow = parseResult.GetValue(follow) };
                bool asJson = parseResult.GetValue(json);
                await foreach (var batch in admin.ModuleLogsAsync(query, ct))
                {
                    foreach (string line in Format(batch, asJson))
                    {
                        await context.Output.WriteLineAsync(line);
                    }

                    await context.Output.FlushAsync(ct);
                }

                return CliApp.ExitOk;
            });
    }

    /// <summary>
    /// The lines to print for one batch: <c>TIME LVL TEXT</c> in local time with control characters written out, or one
    /// JSON object per line (JSON escapes them).
    /// </summary>
    public static IEnumerable<string> Format(ModuleLogBatch batch, bool asJson)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Dropped > 0)
        {
            yield return asJson
                ? JsonText.FormatObject(
                    w =>
                    {
                        w.WriteString("node", batch.Node);
                        w.WriteString("module", batch.Module);
                        w.WriteNumber("dropped", batch.Dropped);
                    },
                    indented: false)
                : $"... {batch.Dropped.ToString(CultureInfo.InvariantCulture)} line(s) lost: this reader fell behind farmd's buffer ...";
        }

        foreach (var line in batch.Lines)
        {
            var time = DateTimeOffset.FromUnixTimeMilliseconds(line.UnixMs);
            if (!asJson)
            {
                // farmd neutralizes escape sequences already; a farmd of another release (or a forged one) may not.
                yield return $"{time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)} {Short(line.Level)} {PrintableText.Neutralize(line.Text)}";
                continue;
            }

            yield return JsonText.FormatObject(
                w =>
                {
                    w.WriteString("node", batch.Node);
                    w.WriteString("module", batch.Module);
                    w.WriteNumber("seq", line.Seq);
                    w.WriteString("time", time.ToString("O", CultureInfo.InvariantCulture));
                    w.WriteNumber("unix_ms", line.UnixMs);
                    w.WriteString("level", line.Level);
                    w.WriteString("text", line.Text);
                },
                indented: false);
        }
    }

    private static string Short(string level) => level switch
    {
        "trace" => "TRC",
        "debug" => "DBG",
        "info" => "INF",
        "warning" => "WRN",
        "error" => "ERR",
        _ => "CRT",
    };
}
