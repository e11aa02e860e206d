using Farm.Native.Linux;
using Farm.Protocol.V1;

namespace Farm.Cli.Config;

/// <summary>
/// <c>farmctl config apply FILE [--json]</c>: a new cluster file that changes only node weights and <c>version</c>,
/// sent to the local farmd, which applies it on every node of the cluster (through its relay) and reports per node.
/// </summary>
internal static class ConfigApplyCommand
{
    /// <summary>How much longer than <c>--timeout</c> the call may take: farmd waits for every node's answer.</summary>
    public static readonly TimeSpan RelayMargin = TimeSpan.FromSeconds(15);

    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var file = new Argument<string>("FILE") { Description = "The new cluster file: the running one with other node weights and a higher 'version'." };
        var json = AdminCommandRunner.JsonOption();
        return AdminCommandRunner.Create(
            context,
            "apply",
            "Change node weights live: farmd checks the file on every node (only weights and 'version' may differ from the running file, "
            + "and 'version' must be higher), writes it over each node's cluster file and announces the new weights; only the difference of buckets moves.",
            [file, json],
            async (parseResult, admin, ct) =>
            {
                string path = parseResult.GetValue(file)!;
                var query = new ConfigApplyQuery { Text = ReadFile(path), FileName = path, RequestedBy = "farmctl@" + Environment.MachineName };
                var answer = await admin.ApplyConfigAsync(query, RelayMargin, ct);
                if (parseResult.GetValue(json))
                {
                    await context.Output.WriteLineAsync(ConfigApplyOutput.Json(path, answer));
                }
                else
                {
                    ConfigApplyOutput.Render(context.Terminal.CreateConsole(context.Output), answer);
                }

                return answer.Results.All(r => r.Outcome is ConfigApplyOutcome.Applied or ConfigApplyOutcome.Unchanged) ? CliApp.ExitOk : CliApp.ExitFailed;
            });
    }

    private static string ReadFile(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                throw new AdminCallException($"{path} is a directory, not a file: pass the cluster file itself");
            }

            return ConfigFileText.Read(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AdminCallException($"cannot read {path}: {AdminCallException.ReadFailure(ex)}");
        }
    }
}
