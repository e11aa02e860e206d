using Farm.WebConsole;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Web;

/// <summary>
/// The web console's actions, run exactly as farmctl's commands run them over the local socket: through
/// <see cref="DrainControl"/> (<c>farmctl drain/resume NODE</c>), <see cref="ModuleControl"/> (<c>farmctl
/// start/stop/restart MODULE --node/--all</c>) and <see cref="ConfigApplyControl"/> (<c>farmctl config apply</c> of the
/// running cluster file with one weight changed and its version raised by one). Other nodes are reached through the
/// admin relay, as for farmctl on this node.
/// </summary>
internal sealed class ConsoleActions(DrainControl drainControl, ModuleControl modules, ConfigApplyControl configApply, ClusterReloader reloader) : IConsoleActions
{
    /// <inheritdoc />
    public async Task<ConsoleActionResult> DrainAsync(string node, bool drain, string requestedBy, CancellationToken cancellationToken)
    {
        var query = new Wire.DrainQuery { Node = node, Action = drain ? Wire.DrainAction.Drain : Wire.DrainAction.Resume, RequestedBy = requestedBy };
        try
        {
            var answer = await drainControl.HandleAsync(query, mayRelay: true, cancellationToken);
            if (answer.Error.Length > 0)
            {
                return new ConsoleActionResult(false, $"{node}: {answer.Error}");
            }

            string done = (drain, answer.Changed) switch
            {
                (true, true) => "draining",
                (true, false) => "already drained",
                (false, true) => "resumed",
                (false, false) => "was not drained",
            };
            return new ConsoleActionResult(true, $"{node}: {done}" + (answer.Warning.Length > 0 ? $" (warning: {answer.Warning})" : ""));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.Unimplemented)
        {
            return new ConsoleActionResult(false, ex.Status.Detail);
        }
    }

    /// <inheritdoc />
    public async Task<ConsoleActionResult> ControlModuleAsync(string module, string action, string? node, string requestedBy, CancellationToken cancellationToken)
    {
        var query = new Wire.ModuleControlQuery
        {
            Module = module,
            Action = action switch
            {
                "start" => Wire.ModuleAction.Start,
                "stop" => Wire.ModuleAction.Stop,
                "restart" => Wire.ModuleAction.Restart,
                _ => Wire.ModuleAction.Unspecified,
            },
            AllNodes = node is null,
            RequestedBy = requestedBy,
        };
        if (node is not null)
        {
            query.Nodes.Add(node);
        }

        try
        {
            var answer = await modules.HandleAsync(query, mayRelay: true, cancellationToken);
            var lines = answer.Results.Select(r => r.Error.Length > 0
                ? $"{r.Node}: {r.Error}"
                : $"{r.Node}: {module} {action} asked; now {r.Module.State}/{r.Module.SubState}");
            return new ConsoleActionResult(answer.Results.All(r => r.Error.Length == 0), string.Join("\n", lines));
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            return new ConsoleActionResult(false, ex.Status.Detail);
        }
    }

    /// <inheritdoc />
    public async Task<ConsoleActionResult> SetWeightAsync(string node, int weight, string requestedBy, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(reloader.FilePath, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new ConsoleActionResult(false, $"the cluster file {reloader.FilePath} cannot be read: {ex.Message}");
        }

        var (edited, error) = ClusterFileEdit.WithWeight(text, node, weight, reloader.Running.Version + 1);
        if (edited is null)
        {
            return new ConsoleActionResult(false, error!);
        }

        try
        {
            var answer = await configApply.HandleAsync(
                new Wire.ConfigApplyQuery { Text = edited, FileName = reloader.FilePath, RequestedBy = requestedBy }, local: true, cancellationToken);
            var lines = answer.Results.Select(r => $"{r.Node}: {r.Outcome.ToString().ToLowerInvariant()}, version {r.Version}"
                + (r.Node == node ? $", weight {r.PreviousWeight} -> {r.Weight}" : "")
                + (r.Errors.Count > 0 ? ": " + string.Join("; ", r.Errors) : ""));
            return new ConsoleActionResult(
                answer.Results.All(r => r.Outcome is Wire.ConfigApplyOutcome.Applied or Wire.ConfigApplyOutcome.Unchanged), string.Join("\n", lines));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.Unimplemented)
        {
            return new ConsoleActionResult(false, ex.Status.Detail);
        }
    }
}
