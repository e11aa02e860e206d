using System.CommandLine;

namespace Farm.Cli.Admin;

/// <summary>The frame of every command that talks to farmd: resolve the target, call, and turn failures into exit codes.</summary>
internal static class AdminCommandRunner
{
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
