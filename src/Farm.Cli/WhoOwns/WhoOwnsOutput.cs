using System.Text.Json;
using Farm.Protocol.V1;
using Spectre.Console;

namespace Farm.Cli.WhoOwns;

/// <summary><c>farmctl who-owns</c> output: a table for people, JSON (names in docs/cli.md) for scripts.</summary>
internal static class WhoOwnsOutput
{
    /// <summary>True when at least one entry names a bucket (the exit code is 0 then).</summary>
    public static bool Answered(WhoOwnsAnswer answer) => answer?.Owners.Any(o => o.Bucket >= 0) ?? false;

    /// <summary>"owned", "incoming", "draining", "none", or null when unknown.</summary>
    public static string? State(BucketState state) => state switch
    {
        BucketState.Owned => "owned",
        BucketState.Incoming => "incoming",
        BucketState.Draining => "draining",
        BucketState.None => "none",
        _ => null,
    };

    /// <summary>The table, the "why" of each row, and what was not computed.</summary>
    public static void Render(IAnsiConsole console, WhoOwnsAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(answer);
        var c = CultureInfo.InvariantCulture;
        string view = answer.InstalledEpoch > 0 ? $"view epoch {answer.InstalledEpoch.ToString(c)} (coordinator {answer.Coordinator})" : "no view installed yet";
        console.MarkupLine($"Client [bold]{Markup.Escape(answer.Client)}[/], as [bold]{Markup.Escape(answer.Node)}[/] sees it: {Markup.Escape(view)}");

        var table = new Table();
        table.AddColumns("MODULE", "RULES", "AFFINITY", "BUCKET", "OWNER", "STATE ON OWNER", "STATE ON " + Markup.Escape(answer.Node));
        CliTerminal.Style(console, table);
        foreach (var o in answer.Owners)
        {
            string rules = Markup.Escape(string.Join(", ", o.Rules));
            if (o.Bucket < 0)
            {
                table.AddRow(Markup.Escape(o.Module), rules, o.Affinity, "-", "-", "-", "-");
                continue;
            }

            string owner = o.Owner.Length > 0 ? $"[bold green]{Markup.Escape(o.Owner)}[/]"
                : answer.InstalledEpoch == 0 ? "[red]nobody (no view yet)[/]"
                : "[red]nobody (no node has the module ready)[/]";
            table.AddRow(
                Markup.Escape(o.Module),
                rules,
                o.Affinity,
                $"{o.Bucket.ToString(c)}/{o.BucketCount.ToString(c)}",
                owner,
                State(o.OwnerState) ?? "?",
                State(o.LocalState) ?? "?");
        }

        console.Write(table);
        // The why of each answer, in the kernel's terms, so it can be checked by hand against the nft ruleset.
        foreach (var o in answer.Owners.Where(o => o.Bucket >= 0))
        {
            string key = o.Affinity == "client_ip_port" ? "address and source port" : "address";
            string owner = o.Owner.Length > 0 ? o.Owner : "nobody";
            console.MarkupLine(Markup.Escape(
                $"{o.Module} {string.Join(", ", o.Rules)}: jhash(client {key}) mod {o.BucketCount.ToString(c)} seed 0x{o.Seed.ToString("x8", c)} = bucket {o.Bucket.ToString(c)}, which the view gives to {owner}"));
        }

        if (answer.Owners.Any(o => o.Bucket >= 0 && o.OwnerState == BucketState.Unknown))
        {
            console.MarkupLine("[grey]? = the state on the owner is known to the owner only: ask it (--host OWNER, or farmctl on that node)[/]");
        }

        foreach (var o in answer.Owners.Where(o => o.Error.Length > 0))
        {
            console.MarkupLine($"[yellow]{Markup.Escape(o.Module)} {Markup.Escape(string.Join(", ", o.Rules))}[/]: {Markup.Escape(o.Error)}");
        }
    }

    /// <summary>The answer as one indented JSON object.</summary>
    public static string Json(WhoOwnsAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return JsonText.FormatObject(
            w =>
            {
                w.WriteString("client", answer.Client);
                w.WriteString("node", answer.Node);
                w.WriteNumber("epoch", answer.InstalledEpoch);
                w.WriteStringOrNull("coordinator", answer.Coordinator);
                w.WriteObjects("owners", answer.Owners, WriteOwner);
            },
            indented: true);
    }

    private static void WriteOwner(Utf8JsonWriter w, BucketOwner o)
    {
        w.WriteString("module", o.Module);
        w.WriteStrings("rules", o.Rules);
        w.WriteString("affinity", o.Affinity);
        w.WriteNumberOrNull("bucket", o.Bucket >= 0 ? o.Bucket : null);
        w.WriteNumber("bucket_count", o.BucketCount);
        w.WriteNumber("seed", o.Seed);
        w.WriteStringOrNull("owner", o.Owner);
        w.WriteStringOrNull("owner_state", o.Bucket >= 0 ? State(o.OwnerState) : null);
        w.WriteStringOrNull("local_state", o.Bucket >= 0 ? State(o.LocalState) : null);
        w.WriteStringOrNull("error", o.Error);
    }
}
