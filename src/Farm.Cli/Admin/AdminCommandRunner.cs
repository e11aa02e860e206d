namespace Farm.Cli.Admin;

/// <summary>The frame of every command that talks to farmd: resolve the target, call, and turn failures into exit codes.</summary>
internal static class AdminCommandRunner
{
    /// <summary>
    /// A command that talks to farmd: its <paramref name="symbols"/> (arguments and options) in this order, then the
    /// connection options and their checks; its action runs <paramref name="body"/> through <see cref="RunAsync"/>. Pass
    /// <paramref name="connection"/> only when the command asks its options itself (new ones otherwise).
    /// </summary>
    public static Command Create(
        CliContext context,
        string name,
        string description,
        IEnumerable<Symbol> symbols,
        Func<ParseResult, AdminConnection, CancellationToken, Task<int>> body,
        AdminConnectionOptions? connection = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentNullException.ThrowIfNull(body);
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
                default:
                    throw new ArgumentException($"{symbol.Name} is neither an argument nor an option.", nameof(symbols));
            }
        }

        var options = connection ?? new AdminConnectionOptions();
        options.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(context, options, parseResult, (admin, ct) => body(parseResult, admin, ct), cancellationToken));
        return command;
    }

    /// <summary><c>--json</c>: machine output in <paramref name="shape"/> (by default one JSON object), field names in docs/cli.md.</summary>
    public static Option<bool> JsonOption(string shape = "one JSON object") =>
        new("--json") { Description = $"Machine output: {shape}; field names in docs/cli.md." };

    /// <summary>
    /// Runs <paramref name="body"/> against the target the options name. An <see cref="AdminCallException"/> prints
    /// <c>farmctl: MESSAGE</c> on standard error and exits 1; cancellation (Ctrl-C) exits 1 too, except where the body
    /// treats it as the normal end (--watch).
    /// </summary>
    public static async Task<int> RunAsync(
        CliContext context, AdminConnectionOptions options, ParseResult parseResult, Func<AdminConnection, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            using var connection = new AdminConnection(options.Resolve(parseResult), context.TimeProvider);
            return await body(connection, cancellationToken);
        }
        catch (AdminCallException ex)
        {
            await context.Error.WriteLineAsync("farmctl: " + ex.Message);
            return CliApp.ExitFailed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync("farmctl: cancelled");
            return CliApp.ExitFailed;
        }
    }
}
