using System.Text.Json;
using Farm.Core.Bundles;
using Farm.Protocol.V1;
using Spectre.Console;

namespace Farm.Cli.Bundles;

/// <summary>
/// <c>farmctl module pack|install|rollback|remove|reload|list</c>: a module folder into one bundle file, and bundles onto the
/// nodes through the local farmd (which relays to other nodes over TCP, sealed with the cluster key, as for
/// <c>farmctl start --all</c>).
/// </summary>
internal static class ModulePackageCommand
{
    /// <summary>How much longer than <c>--timeout</c> an install, rollback or remove may take: the nodes drain and reload the module one after the other.</summary>
    public static readonly TimeSpan ReloadMargin = TimeSpan.FromMinutes(15);

    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new Command("module", "Pack a module folder into a bundle; install, roll back, remove and list bundles on the nodes; reload the modules folder.")
        {
            Pack(context),
            Install(context),
            Named(context, "rollback", ModulePackageAction.Rollback,
                "Make the module's previous version current again on the nodes (the current one becomes the previous) and reload it live."),
            Named(context, "remove", ModulePackageAction.Remove,
                "Drain and stop the module on the nodes (its buckets go to the other nodes first), unload it, and delete every installed version."),
            Reload(context),
            List(context),
        };
    }

    private static Command Pack(CliContext context)
    {
        var folder = new Argument<string>("DIR") { Description = "The module's folder: farm.yaml, bin/ scripts, custom checkers." };
        var output = new Option<string>("--output", "-o") { Description = "The bundle file to write (default NAME-VERSION.farm.zip here).", HelpName = "FILE" };
        var version = new Option<string>("--version") { Description = "The bundle's version, e.g. 1.2.0 (numbers and dots, then optionally -rc1).", Required = true, HelpName = "VERSION" };
        var farm = new Option<string>("--farm")
        {
            Description = "The Farm releases the bundle runs on, e.g. \">=0.1 <1.0\".",
            HelpName = "RANGE",
            DefaultValueFactory = _ => FarmVersionRange.From(BundlePacker.Release).ToString(),
        };
        var command = new Command("pack", "Pack a module folder into one bundle file (zip + bundle.json: name, version, Farm range, SHA-256 and mode of every file).")
        {
            folder, output, version, farm,
        };
        command.SetAction(parseResult =>
        {
            string dir = parseResult.GetValue(folder)!;
            var range = FarmVersionRange.Parse(parseResult.GetValue(farm), out string? rangeProblem);
            if (range is null)
            {
                context.Error.WriteLine($"farmctl: --farm: {rangeProblem}");
                return CliApp.ExitFailed;
            }

            using var buffer = new MemoryStream();
            var (manifest, problems) = BundlePacker.Pack(dir, parseResult.GetValue(version)!, range, buffer);
            if (manifest is null)
            {
                foreach (string problem in problems)
                {
                    context.Error.WriteLine("farmctl: " + problem);
                }

                return CliApp.ExitFailed;
            }

            string file = parseResult.GetValue(output) ?? BundlePacker.DefaultFileName(manifest.Name, manifest.Version);
            try
            {
                File.WriteAllBytes(file, buffer.ToArray());
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                context.Error.WriteLine($"farmctl: cannot write {file}: {ex.Message}");
                return CliApp.ExitFailed;
            }

            context.Output.WriteLine(
                $"{file}: module '{manifest.Name}' {manifest.Version}, {manifest.Files.Count} files, Farm {manifest.Farm}, hash {BundleManifest.Sha256(manifest.ToJson())}");
            return CliApp.ExitOk;
        });
        return command;
    }

    private static Command Install(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "A bundle made by farmctl module pack." };
        return Remote(context, "install", "Install a bundle on this node, the nodes named or every node: each node verifies it (hashes, names, farm.yaml, owner and modes), "
            + "unpacks it beside the current version, swaps it in atomically and reloads the module live (drain, stop, swap, start).", file, (parseResult, query) =>
        {
            string path = parseResult.GetValue(file)!;
            var (bundle, problems) = BundlePacker.Open(path);
            if (bundle is null)
            {
                throw new AdminCallException("the bundle is refused, nothing was sent: " + string.Join("; ", problems));
            }

            var bytes = File.ReadAllBytes(path);
            if (bytes.Length > 3 << 20)
            {
                throw new AdminCallException($"{path} has {bytes.Length} bytes, more than 3 MiB: keep data out of the module (install it with the application)");
            }

            query.Action = ModulePackageAction.Install;
            query.Bundle = Google.Protobuf.ByteString.CopyFrom(bytes);
            query.Module = bundle.Manifest.Name;
        });
    }

    private static Command Named(CliContext context, string verb, ModulePackageAction action, string description)
    {
        var module = new Argument<string>("MODULE") { Description = "The module's name." };
        return Remote(context, verb, description, module, (parseResult, query) =>
        {
            query.Action = action;
            query.Module = parseResult.GetValue(module)!;
        });
    }

    private static Command Reload(CliContext context)
    {
        var module = new Argument<string>("MODULE") { Description = "Only this module (default: every module of the folder).", Arity = ArgumentArity.ZeroOrOne };
        return Remote(context, "reload", "Read the modules folder again on the nodes (one after the other), for folders copied or edited by hand: "
            + "load a new module, reload a module whose farm.yaml changed (drain, stop, swap, start), unload a module whose folder is gone. "
            + "Scripts and checkers need no reload: they are read at each run.", module, (parseResult, query) =>
        {
            query.Action = ModulePackageAction.Reload;
            query.Module = parseResult.GetValue(module) ?? "";
        });
    }

    private static Command List(CliContext context) =>
        Remote(context, "list", "List the installed modules per node: name, version, hash (of the bundle's manifest), previous version, the version running and its state.", null,
            (_, query) => query.Action = ModulePackageAction.List);

    /// <summary>A command that sends one <see cref="ModulePackageQuery"/> (filled by <paramref name="fill"/>) to farmd, with --node/--all and --json.</summary>
    private static Command Remote(CliContext context, string verb, string description, Argument<string>? argument, Action<ParseResult, ModulePackageQuery> fill)
    {
        var selection = new NodeSelection();
        var (nodes, all) = (selection.Nodes, selection.All);
        var json = AdminCommandRunner.JsonOption();
        var connection = new AdminConnectionOptions();
        Symbol[] symbols = argument is null ? [nodes, all, json] : [argument, nodes, all, json];
        var command = AdminCommandRunner.Create(context, verb, description, symbols, async (parseResult, admin, ct) =>
        {
            var query = new ModulePackageQuery { AllNodes = parseResult.GetValue(all), RequestedBy = "farmctl@" + Environment.MachineName };
            query.Nodes.Add(parseResult.GetValue(nodes) ?? []);
            fill(parseResult, query);
            var answer = await admin.ManageModulePackageAsync(query, query.Action == ModulePackageAction.List ? TimeSpan.Zero : ReloadMargin, ct);
            if (parseResult.GetValue(json))
            {
                await context.Output.WriteLineAsync(Json(verb, answer));
            }
            else
            {
                Render(context.Terminal.CreateConsole(context.Output), verb, answer);
            }

            return answer.Results.All(r => r.Error.Length == 0) ? CliApp.ExitOk : CliApp.ExitFailed;
        }, connection);
        command.Validators.Add(result => selection.Validate(result, connection));
        return command;
    }

    /// <summary>One line per node (outcome or error, and what happened to the running module), then the modules table.</summary>
    internal static void Render(IAnsiConsole console, string verb, ModulePackageAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(answer);
        if (verb != "list")
        {
            foreach (var r in answer.Results)
            {
                console.MarkupLine(r.Error.Length > 0
                    ? $"[bold]{Markup.Escape(r.Node)}[/]: [red]failed[/]: {Markup.Escape(r.Error)}{(r.Detail.Length > 0 ? "; " + Markup.Escape(r.Detail) : "")}"
                    : $"[bold]{Markup.Escape(r.Node)}[/]: [green]{Markup.Escape(r.Outcome)}[/]{(r.Detail.Length > 0 ? "; " + Markup.Escape(r.Detail) : "")}");
            }
        }

        var table = new Table();
        table.AddColumns("NODE", "MODULE", "VERSION", "HASH", "PREVIOUS", "RUNNING", "STATE");
        CliTerminal.Style(console, table);
        foreach (var r in answer.Results)
        {
            if (r.Error.Length > 0 && verb == "list")
            {
                table.AddRow(Markup.Escape(r.Node), "-", "-", "-", "-", "-", "[red]" + Markup.Escape(r.Error) + "[/]");
            }

            foreach (var m in r.Modules)
            {
                table.AddRow(
                    Markup.Escape(r.Node),
                    Markup.Escape(m.Module),
                    m.Version.Length > 0 ? Markup.Escape(m.Version) : "(folder)",
                    m.Hash.Length > 0 ? m.Hash[..12] : "-",
                    m.PreviousVersion.Length > 0 ? Markup.Escape(m.PreviousVersion) : "-",
                    m.RunningVersion.Length > 0 ? Markup.Escape(m.RunningVersion) : "-",
                    Markup.Escape(m.State));
            }
        }

        console.Write(table);
    }

    internal static string Json(string verb, ModulePackageAnswer answer) => JsonText.FormatObject(
        w =>
        {
            w.WriteString("action", verb);
            w.WriteObjects("results", answer.Results, WriteResult);
        },
        indented: true);

    private static void WriteResult(Utf8JsonWriter w, ModulePackageResult r)
    {
        w.WriteString("node", r.Node);
        w.WriteStringOrNull("error", r.Error);
        w.WriteStringOrNull("outcome", r.Outcome);
        w.WriteStringOrNull("detail", r.Detail);
        w.WriteObjects("modules", r.Modules, (mw, m) =>
        {
            mw.WriteString("module", m.Module);
            mw.WriteStringOrNull("version", m.Version);
            mw.WriteStringOrNull("hash", m.Hash);
            mw.WriteStringOrNull("previous_version", m.PreviousVersion);
            mw.WriteStringOrNull("running_version", m.RunningVersion);
            mw.WriteString("state", m.State);
        });
    }
}
