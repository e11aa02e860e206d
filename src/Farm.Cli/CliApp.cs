using System.CommandLine.Invocation;
using Farm.Cli.Config;
using Farm.Cli.Modules;
using Farm.Cli.Status;
using Farm.Cli.WhoOwns;

namespace Farm.Cli;

/// <summary>The farmctl command tree; <see cref="Run"/> is the whole program minus the process (tests call it directly).</summary>
internal static class CliApp
{
    /// <summary>Everything passed, or help was shown.</summary>
    public const int ExitOk = 0;

    /// <summary>The command ran and found problems (e.g. configuration errors), or farmd could not be asked.</summary>
    public const int ExitFailed = 1;

    /// <summary>The command line itself is wrong (unknown command or option, missing argument).</summary>
    public const int ExitUsage = 2;

    /// <summary>Parses <paramref name="args"/>, runs the command, and returns the process exit code (output treated as redirected).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        Run(args, output, error, CliTerminal.Redirected);

    /// <summary>As <see cref="Run(string[], TextWriter, TextWriter)"/>, for a known kind of standard output; Ctrl-C stops --watch.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CliTerminal terminal) =>
        RunAsync(args, new CliContext(output, error, terminal, TimeProvider.System), CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>
    /// Parses and runs. When <paramref name="cancellationToken"/> can be cancelled, the caller stops commands with it;
    /// otherwise Ctrl-C and SIGTERM do (System.CommandLine's process-termination handling).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = new RootCommand("farmctl: administer a Farm cluster (kernel-free farm clustering).")
        {
            ConfigCommand.Create(context),
            Tls.TlsCommand.Create(context),
            StatusCommand.Create(context),
            WhoOwnsCommand.Create(context),
            ModuleCommand.Create(context, Farm.Protocol.V1.ModuleAction.Start),
            ModuleCommand.Create(context, Farm.Protocol.V1.ModuleAction.Stop),
            ModuleCommand.Create(context, Farm.Protocol.V1.ModuleAction.Restart),
            LogsCommand.Create(context),
            Bundles.ModulePackageCommand.Create(context),
            Drain.DrainCommand.Create(context, Farm.Protocol.V1.DrainAction.Drain),
            Drain.DrainCommand.Create(context, Farm.Protocol.V1.DrainAction.Resume),
            Import.ImportCommand.Create(context),
            ConsoleUsers.ConsoleUserCommand.Create(context),
        };

        // "@file" must stay a file name, not become a response file: config files are passed as arguments.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await context.Error.WriteLineAsync("farmctl: " + parseError.Message);
            }

            await context.Error.WriteLineAsync($"Run 'farmctl {string.Join(' ', CommandPath(parseResult))} --help' for usage.".Replace("  ", " ", StringComparison.Ordinal));
            return ExitUsage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = context.Output,
            Error = context.Error,
            ProcessTerminationTimeout = cancellationToken.CanBeCanceled ? null : TimeSpan.FromSeconds(2),
        };
        return await parseResult.InvokeAsync(invocation, cancellationToken);
    }

    private static List<string> CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var r = parseResult.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (r.Command is not RootCommand)
            {
                names.Insert(0, r.Command.Name);
            }
        }

        return names;
    }
}
