using Farm.Daemon.Drain;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Answers <c>DrainNode</c>: drains or resumes this node, or (for a call over the local socket) relays the query to
/// the node named. A drained node announces leaving and keeps running: the coordinator gives its buckets to the
/// others, and it serves the connections it has until their buckets drained.
/// </summary>
internal sealed partial class DrainControl(NodeRoster roster, Func<IReadOnlyList<ModuleConfig>> modules, DrainSwitch drain, MembershipHost host, AdminRelay relay, ILogger<DrainControl> logger)
{
    /// <summary>How long a relayed query may take.</summary>
    public static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Runs the query; <paramref name="mayRelay"/> is false over TCP (a node then acts only on itself).</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT: unknown node or action; another node asked over TCP.</exception>
    public async Task<Wire.DrainAnswer> HandleAsync(Wire.DrainQuery query, bool mayRelay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var errors = new List<string>();
        if (query.Action is not (Wire.DrainAction.Drain or Wire.DrainAction.Resume or Wire.DrainAction.Query))
        {
            errors.Add("no action: drain, resume or query");
        }

        string self = roster.Self;
        var names = roster.Names.ToList();
        if (!names.Contains(query.Node, StringComparer.Ordinal))
        {
            errors.Add($"unknown node '{query.Node}' (nodes: {string.Join(", ", names)})");
        }
        else if (!mayRelay && query.Node != self)
        {
            errors.Add($"over TCP a node acts only on itself ({self}): ask {query.Node}, or ask through the local socket of any node");
        }

        if (errors.Count > 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, string.Join("; ", errors)));
        }

        if (query.Node == self)
        {
            return Local(query);
        }

        var (answer, error) = await relay.CallAsync(
            query.Node, MethodPaths.DrainNode, query, async (c, e, o) => (await c.DrainNodeAsync(new Wire.DrainRequest { Sealed = e }, o)).Sealed, Wire.DrainAnswer.Parser, RelayTimeout, cancellationToken);
        return answer ?? new Wire.DrainAnswer { Node = query.Node, Error = error };
    }

    private Wire.DrainAnswer Local(Wire.DrainQuery query)
    {
        string self = roster.Self;
        string by = query.RequestedBy.Length > 0 ? query.RequestedBy : "an admin";
        var answer = new Wire.DrainAnswer { Node = self };
        if (query.Action == Wire.DrainAction.Drain)
        {
            answer.Changed = drain.Drain();
            if (answer.Changed)
            {
                Log.Drained(logger, by);
            }

            if (drain.KeepProblem is { } keep)
            {
                answer.Warning = $"the drain holds, but a restart of farmd would end it: {keep}";
            }
            else
            {
                Log.AlreadyDrained(logger, by);
            }

            var unserved = host.Read((m, now) => DrainProgress.Unserved(m, now, modules().Select(mod => mod.Name)));
            if (unserved.Count > 0)
            {
                answer.Warning = $"no other node serves {string.Join(", ", unserved)} now (none is up with the module ready, a weight above 0 and not drained): "
                    + $"its clients get no answer while {self} is drained; resume it with 'farmctl resume {self}'";
                Log.DrainLeavesUnserved(logger, string.Join(", ", unserved));
            }
        }
        else if (query.Action == Wire.DrainAction.Query)
        {
            // Only the progress below.
        }
        else if (drain.IsStopping)
        {
            answer.Error = $"farmd on {self} is stopping: it leaves the farm anyway; start it again to take a share";
        }
        else
        {
            answer.Changed = drain.Resume();
            if (answer.Changed)
            {
                Log.Resumed(logger, by);
            }
            else
            {
                Log.NotDrained(logger, by);
            }
        }

        bool drained = drain.IsDrained;
        return host.Read((m, now) => WithProgress(answer, m, now, drained));
    }

    /// <summary>Under the membership lock: the node's drain state and hand-over progress, from its own state.</summary>
    private static Wire.DrainAnswer WithProgress(Wire.DrainAnswer answer, MembershipManager manager, TimeSpan now, bool drained)
    {
        var drains = manager.DrainStatuses(now);
        answer.Owned = DrainProgress.Owned(manager.Installed, manager.Self.Name);
        answer.Incoming = drains.Sum(d => d.Incoming);
        answer.Draining = drains.Sum(d => d.Draining);
        answer.State = DrainProgress.State(drained, answer.Owned, drains);
        if (drains.Max(d => d.OldestDrainAge) is { } oldest)
        {
            answer.OldestDrainAgeMs = (long)oldest.TotalMilliseconds;
        }

        return answer;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Information,
            Message = "Drained by {RequestedBy}: announcing leaving; the other nodes take this node's buckets, the connections it has drain")]
        public static partial void Drained(ILogger logger, string requestedBy);

        [LoggerMessage(EventId = 521, Level = LogLevel.Information, Message = "Drain asked by {RequestedBy}: already drained, nothing changes")]
        public static partial void AlreadyDrained(ILogger logger, string requestedBy);

        [LoggerMessage(EventId = 522, Level = LogLevel.Information, Message = "Resumed by {RequestedBy}: no longer leaving; the coordinator gives this node its share again")]
        public static partial void Resumed(ILogger logger, string requestedBy);

        [LoggerMessage(EventId = 523, Level = LogLevel.Information, Message = "Resume asked by {RequestedBy}: not drained, nothing changes")]
        public static partial void NotDrained(ILogger logger, string requestedBy);

        [LoggerMessage(EventId = 524, Level = LogLevel.Warning,
            Message = "Drained while no other node serves {Modules}: their clients get no answer until this node resumes or another node takes them")]
        public static partial void DrainLeavesUnserved(ILogger logger, string modules);
    }
}
