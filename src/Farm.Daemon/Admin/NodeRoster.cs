namespace Farm.Daemon.Admin;

/// <summary>
/// The nodes of the cluster file as the admin controls see them: this node's name, and every node (this one too) in the
/// file's order with the endpoints its gRPC port is dialed at (after <c>--address-map</c>). Bound once at start.
/// </summary>
/// <param name="Self">This node's name.</param>
/// <param name="Nodes">Every node of the cluster file, in its order.</param>
internal sealed record NodeRoster(string Self, IReadOnlyList<NodeRoster.Entry> Nodes)
{
    /// <summary>The names of all nodes, in the cluster file's order.</summary>
    public IReadOnlyList<string> Names => [.. Nodes.Select(n => n.Name)];

    /// <summary>
    /// The nodes an admin call acts on, in the cluster file's order: every node with <paramref name="all"/>, the nodes
    /// named, or this node when none is named. Adds to <paramref name="errors"/> the unknown names and, when the call may
    /// not relay (it came over TCP), any node but this one.
    /// </summary>
    public IReadOnlyList<string> Targets(IReadOnlyCollection<string> named, bool all, bool mayRelay, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(named);
        ArgumentNullException.ThrowIfNull(errors);
        var names = Names;
        var unknown = named.Where(n => !names.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            errors.Add($"unknown node{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(n => $"'{n}'"))} (nodes: {string.Join(", ", names)})");
        }

        IReadOnlyList<string> targets = all ? names : named.Count == 0 ? [Self] : [.. names.Where(named.Contains)];
        if (!mayRelay && targets.Any(t => t != Self))
        {
            errors.Add($"over TCP a node acts only on itself ({Self}): ask each node, or ask through the local socket of one");
        }

        return targets;
    }

    /// <summary>The endpoints of node <paramref name="node"/>; throws when the file has no such node.</summary>
    public IReadOnlyList<IPEndPoint> EndpointsOf(string node) => Nodes.Single(n => n.Name == node).Endpoints;

    /// <summary>One node: its name and the endpoints of its gRPC port, one per LAN.</summary>
    /// <param name="Name">The node's name.</param>
    /// <param name="Endpoints">Its gRPC endpoints, one per LAN.</param>
    internal sealed record Entry(string Name, IReadOnlyList<IPEndPoint> Endpoints);
}
