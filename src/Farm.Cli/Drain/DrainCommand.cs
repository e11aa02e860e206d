using Farm.Protocol.V1;

namespace Farm.Cli.Drain;

/// <summary>
/// <c>farmctl drain NODE [--wait] [--json]</c> and <c>farmctl resume NODE [--json]</c>: take a node out of the farm
/// for maintenance without cutting its connections, and put it back. Through the local farmd, which relays to NODE.
/// </summary>
internal static class DrainCommand
{
    /// <summary>The longest <c>drain --wait</c> without <c>--timeout</c>.</summary>
    public static readonly TimeSpan DefaultWaitLimit = TimeSpan.FromMinutes(10);

    /// <summary>How often <c>drain --wait</c> asks the node how far it got.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Create(CliContext context, DrainAction action)
    {
        ArgumentNullException.ThrowIfNull(context);
        bool drain = action == DrainAction.Drain;
        var node = new Argument<string>("NODE") { Description = drain ? "The node to drain (a node of the cluster file)." : "The node to resume." };
        var json = AdminCommandRunner.JsonOption();
        var wait = new Option<bool>("--wait")
        {
            Description = $"Wait until the node is drained (no bucket owned, incoming or draining), printing progress; at most --timeout (default {DrainOutput.Duration(DefaultWaitLimit)}).",
        };
        var connection = new AdminConnectionOptions();
        string description = drain
            ? "Drain a node for maintenance: it announces leaving, the other nodes take its buckets, and it keeps running and serving "
              + "the connections it has until their buckets drained. Undo with 'farmctl resume NODE'."
            : "Resume a drained node: it stops announcing leaving and the coordinator gives it its share again.";
        Symbol[] symbols = drain ? [node, wait, json] : [node, json];
        return AdminCommandRunner.Create(context, drain ? "drain" : "resume", description, symbols, async (parseResult, admin, ct) =>
        {
            string name = parseResult.GetValue(node)!;
            bool asJson = parseResult.GetValue(json);
            var answer = await admin.DrainNodeAsync(new DrainQuery { Node = name, Action = action, RequestedBy = "farmctl@" + Environment.MachineName }, ct);
            if (answer.Error.Length > 0 || !drain || !parseResult.GetValue(wait))
            {
                await context.Output.WriteLineAsync(asJson ? DrainOutput.Json(answer, action, null) : DrainOutput.Text(answer, action));
                return answer.Error.Length > 0 ? CliApp.ExitFailed : CliApp.ExitOk;
            }

            if (!asJson)
            {
                await context.Output.WriteLineAsync(DrainOutput.Text(answer, action));
            }

            var limit = connection.HasTimeout(parseResult) ? connection.Resolve(parseResult).Timeout : DefaultWaitLimit;
            var outcome = await WaitAsync(context, admin, name, limit, asJson, ct);
            if (asJson)
            {
                await context.Output.WriteLineAsync(DrainOutput.Json(answer, action, outcome));
            }
            else
            {
                await context.Output.WriteLineAsync(outcome.Message);
            }

            return outcome.Drained ? CliApp.ExitOk : CliApp.ExitFailed;
        }, connection);
    }

    /// <summary>
    /// Asks the node (through the farmd asked, which relays) how far its drain got, from its own state, until it is
    /// drained, it no longer can be, or <paramref name="limit"/> passed; prints each change of progress.
    /// </summary>
    private static async Task<DrainWaitOutcome> WaitAsync(CliContext context, AdminConnection admin, string name, TimeSpan limit, bool quiet, CancellationToken cancellationToken)
    {
        var time = context.TimeProvider;
        long start = time.GetTimestamp();
        string? last = null;
        while (true)
        {
            var answer = await admin.DrainNodeAsync(new DrainQuery { Node = name, Action = DrainAction.Query }, cancellationToken);
            var elapsed = time.GetElapsedTime(start);
            if (DrainOutput.Verdict(answer, elapsed) is { } verdict)
            {
                return verdict;
            }

            var progress = DrainProgressLine.Of(answer);
            if (elapsed >= limit)
            {
                return new DrainWaitOutcome(false, elapsed, $"{name} is not drained after {DrainOutput.Duration(elapsed)}: {progress.Describe()} (wait longer with --timeout, or see 'farmctl status')");
            }

            string line = progress.Describe();
            if (!quiet && line != last)
            {
                await context.Output.WriteLineAsync($"{name}: {line}");
                await context.Output.FlushAsync(cancellationToken);
                last = line;
            }

            await Task.Delay(PollInterval, time, cancellationToken);
        }
    }
}
