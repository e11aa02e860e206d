namespace Farm.Daemon.Hosting;

/// <summary>
/// Whether a node serves (a member of its installed view, the kernel holding that view's buckets) and a one-line status
/// for the service manager (systemd's <c>STATUS=</c>, shown by <c>systemctl status farmd</c>).
/// </summary>
/// <param name="Ready">In the installed view, and the data plane applied it (always, with <c>--data-plane off</c>).</param>
/// <param name="Status">e.g. <c>view 7@n1: n1 n2 n3; demo-web UP 1365 buckets</c>.</param>
internal sealed record NodeReadiness(bool Ready, string Status)
{
    /// <summary>Reads the node's state (membership under its lock, briefly; the data plane; the modules).</summary>
    public static NodeReadiness Of(FarmNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var (view, member, peers) = node.Host.Read((m, now) =>
        {
            bool isMember = m.Installed is { } v && v.Contains(m.Self);

            // Peers only matter while waiting: their snapshot allocates.
            return (m.Installed, isMember, isMember ? default : m.PeerStatuses(now));
        });
        int configured = node.Settings.Cluster.Nodes.Count;
        if (!member || view is null)
        {
            int reachable = 1 + peers.Count(p => p.Reachable);
            int excluded = peers.Count(p => p.ConfigHash is not null && !p.ConfigMatches);
            string policy = node.Settings.Cluster.SplitBrain.Policy.ToString().ToLowerInvariant();
            var waiting = new StringBuilder(Inv($"waiting to join a view: {reachable} of {configured} nodes reachable (split brain policy {policy})"));
            if (excluded > 0)
            {
                waiting.Append(Inv($", {excluded} with another cluster file"));
            }

            return new NodeReadiness(false, waiting.ToString());
        }

        bool programmed = node.DataPlane is not { } dataPlane || (dataPlane.LastApplied?.View is { } applied && applied >= view.Id);
        var status = new StringBuilder(Inv($"view {view.Id}: {string.Join(' ', view.Members.Select(m => m.Name))}"));
        if (view.Members.Length < configured)
        {
            status.Append(Inv($" ({view.Members.Length} of {configured})"));
        }

        if (!programmed)
        {
            status.Append("; data plane not programmed yet");
        }

        foreach (var module in node.Modules.Snapshot())
        {
            string state = module.Status.State.ToString().ToUpperInvariant();
            int buckets = view.Tables.TryGetValue(module.Config.Name, out var table) ? table.CountOf(node.Settings.Self.Name) : 0;
            status.Append(Inv($"; {module.Config.Name} {state} {buckets} buckets"));
        }

        return new NodeReadiness(programmed, status.ToString());
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
