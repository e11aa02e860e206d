using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Answers <c>ControlModule</c>: acts on this node's module, and (for a call over the local socket) relays the action
/// to the other nodes named, in parallel, gathering one result per node in cluster-file order.
/// </summary>
internal sealed class ModuleControl(NodeRoster roster, ModuleHost modules, AdminRelay relay)
{
    /// <summary>The longest <c>wait_ms</c> honoured.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    /// <summary>How much longer than the wait a relayed call may take.</summary>
    public static readonly TimeSpan RelayMargin = TimeSpan.FromSeconds(5);

    /// <summary>Runs the query; <paramref name="mayRelay"/> is false over TCP (a node then acts only on itself).</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT: unknown module, action or node; relaying asked over TCP.</exception>
    public async Task<Wire.ModuleControlAnswer> HandleAsync(Wire.ModuleControlQuery query, bool mayRelay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var errors = new List<string>();
        if (!modules.Modules.Any(m => m.Name == query.Module))
        {
            errors.Add(ModuleReports.UnknownModule(query.Module, modules.Modules));
        }

        ModuleAdminAction? action = query.Action switch
        {
            Wire.ModuleAction.Start => ModuleAdminAction.Start,
            Wire.ModuleAction.Stop => ModuleAdminAction.Stop,
            Wire.ModuleAction.Restart => ModuleAdminAction.Restart,
            _ => null,
        };
        if (action is null)
        {
            errors.Add("no action: start, stop or restart");
        }

        string self = roster.Self;
        var targets = roster.Targets(query.Nodes, query.AllNodes, mayRelay, errors);

        if (errors.Count > 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, string.Join("; ", errors)));
        }

        var wait = TimeSpan.FromMilliseconds(Math.Clamp(query.WaitMs, 0, (long)MaxWait.TotalMilliseconds));
        string reason = $"admin {query.Action.ToString().ToLowerInvariant()}" + (query.RequestedBy.Length > 0 ? $" by {query.RequestedBy}" : "");
        var results = await Task.WhenAll(targets.Select(node => node == self
            ? LocalAsync(query.Module, action!.Value, reason, wait, cancellationToken)
            : relay.ControlAsync(node, query, wait + RelayMargin, cancellationToken)));
        var answer = new Wire.ModuleControlAnswer();
        answer.Results.Add(results);
        return answer;
    }

    private async Task<Wire.ModuleControlResult> LocalAsync(string module, ModuleAdminAction action, string reason, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            var (runtime, settled) = await modules.ControlAsync(module, action, reason, wait, cancellationToken);
            return new Wire.ModuleControlResult { Node = roster.Self, Module = ModuleReports.From(runtime), Settled = settled };
        }
        catch (ArgumentException ex)
        {
            return new Wire.ModuleControlResult { Node = roster.Self, Error = ex.Message };
        }
    }
}
