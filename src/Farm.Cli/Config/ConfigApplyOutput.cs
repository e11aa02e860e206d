using Farm.Protocol.V1;
using Spectre.Console;

namespace Farm.Cli.Config;

/// <summary>What <c>farmctl config apply</c> prints: one row per node, then each node's problems (identical ones once).</summary>
internal static class ConfigApplyOutput
{
    /// <summary>"applied", "unchanged", "refused", "failed".</summary>
    public static string Outcome(ConfigApplyOutcome outcome) => outcome switch
    {
        ConfigApplyOutcome.Applied => "applied",
        ConfigApplyOutcome.Unchanged => "unchanged",
        ConfigApplyOutcome.Refused => "refused",
        _ => "failed",
    };

    public static void Render(IAnsiConsole console, ConfigApplyAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(answer);
        var c = CultureInfo.InvariantCulture;
        var table = new Table();
        table.AddColumns("NODE", "RESULT", "VERSION", "WEIGHT", "FILE");
        CliTerminal.Style(console, table);
        foreach (var r in answer.Results)
        {
            bool delivered = r.Path.Length > 0;
            string color = r.Outcome switch { ConfigApplyOutcome.Applied => "green", ConfigApplyOutcome.Unchanged => "default", _ => "red" };
            string weight = !delivered ? "-"
                : r.PreviousWeight != r.Weight ? $"{r.PreviousWeight.ToString(c)} -> {r.Weight.ToString(c)}"
                : r.Weight.ToString(c);
            table.AddRow(
                Markup.Escape(r.Node),
                $"[{color}]{Outcome(r.Outcome)}[/]",
                delivered ? r.Version.ToString(c) : "-",
                weight,
                delivered ? Markup.Escape(r.Path) : "-");
        }

        console.Write(table);

        // An invalid file is refused alike by every node: say it once, naming the nodes.
        foreach (var group in answer.Results.Where(r => r.Errors.Count > 0).GroupBy(r => string.Join("\n", r.Errors), StringComparer.Ordinal))
        {
            var first = group.First();
            console.WriteLine($"{string.Join(", ", group.Select(r => r.Node))}: {Outcome(first.Outcome)}:");
            foreach (string error in first.Errors)
            {
                console.WriteLine("  " + error);
            }
        }
    }

    public static string Json(string file, ConfigApplyAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return JsonText.FormatObject(
            w =>
            {
                w.WriteString("file", file);
                w.WriteObjects("results", answer.Results, (w, r) =>
                {
                    bool delivered = r.Path.Length > 0;
                    w.WriteString("node", r.Node);
                    w.WriteString("outcome", Outcome(r.Outcome));
                    w.WriteNumberOrNull("version", delivered ? r.Version : null);
                    w.WriteNumberOrNull("previous_weight", delivered ? r.PreviousWeight : null);
                    w.WriteNumberOrNull("weight", delivered ? r.Weight : null);
                    w.WriteStringOrNull("path", r.Path);
                    w.WriteStrings("errors", r.Errors);
                });
            },
            indented: true);
    }
}
