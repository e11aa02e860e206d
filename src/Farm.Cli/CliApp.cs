using System.CommandLine;
using System.CommandLine.Invocation;
using Farm.Cli.Config;

namespace Farm.Cli;

/// <summary>The farmctl command tree; <see cref="Run"/> is the whole program minus the process (tests call it directly).</summary>
internal static class CliApp
{
    /// <summary>Everything passed, or help was shown.</summary>
    public const int ExitOk = 0;

    /// <summary>The command ran and found problems (e.g. configuration errors).</summary>
    public const int ExitFailed = 1;

    /// <summary>The command line itself is wrong (unknown command or option, missing argument).</summary>
    public const int ExitUsage = 2;

    /// <summary>Parses <paramref name="args"/>, runs the command, and returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("farmctl: administer a Farm cluster (kernel-free farm clustering).")
        {
            ConfigCommand.Create(output),
        };

        // "@file" must stay a file name, not become a response file: config files are passed as arguments.
        var parseResult = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction)
        {
            foreach (var parseError in parseResult.Errors)
            {
                error.WriteLine("farmctl: " + parseError.Message);
            }

            error.WriteLine($"Run 'farmctl {string.Join(' ', CommandPath(parseResult))} --help' for usage.".Replace("  ", " ", StringComparison.Ordinal));
            return ExitUsage;
        }

        return parseResult.Invoke(new InvocationConfiguration { Output = output, Error = error });
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
