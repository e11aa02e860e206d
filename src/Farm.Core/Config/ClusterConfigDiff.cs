namespace Farm.Core.Config;

/// <summary>
/// How a new cluster file differs from the running one, split by what may change while farmd runs: node weights and
/// <c>version</c> change live; everything else is in the configuration hash and needs a restart of every node.
/// </summary>
public sealed record ClusterConfigDiff
{
    /// <summary>
    /// The settings that differ and need a restart, as the file names them, in the hash's order:
    /// e.g. <c>key</c>, <c>heartbeat.interval</c>, <c>nodes[b].addresses</c>, <c>nodes[d] (added)</c>.
    /// Empty exactly when both files have the same <see cref="ClusterConfig.ComputeHash"/>.
    /// </summary>
    public required IReadOnlyList<string> RestartKeys { get; init; }

    /// <summary>The nodes of both files whose weight differs, by name.</summary>
    public required IReadOnlyList<NodeWeightChange> WeightChanges { get; init; }

    /// <summary>The running file's <c>version</c>.</summary>
    public required int RunningVersion { get; init; }

    /// <summary>The new file's <c>version</c>.</summary>
    public required int CandidateVersion { get; init; }

    /// <summary>True when something other than weights and version differs.</summary>
    public bool NeedsRestart => RestartKeys.Count > 0;

    /// <summary>True when nothing that farmd uses differs (comments and formatting may).</summary>
    public bool IsEmpty => !NeedsRestart && WeightChanges.Count == 0 && RunningVersion == CandidateVersion;

    /// <summary>Compares <paramref name="candidate"/> with <paramref name="running"/>.</summary>
    public static ClusterConfigDiff Compare(ClusterConfig running, ClusterConfig candidate)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(candidate);

        // The hash's own lines: whatever the hash covers is a restart key, and nothing else is.
        var before = ClusterConfigHasher.Lines(running);
        var after = ClusterConfigHasher.Lines(candidate).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
        var beforeKeys = before.Select(l => l.Key).ToHashSet(StringComparer.Ordinal);
        var keys = new List<string>();
        void Add(string key)
        {
            if (!keys.Contains(key, StringComparer.Ordinal))
            {
                keys.Add(key);
            }
        }

        var runningNodes = running.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var candidateNodes = candidate.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (path, value) in before)
        {
            if (after.TryGetValue(path, out var other) && other == value)
            {
                continue;
            }

            if (NodeOf(path) is { } node && !candidateNodes.Contains(node))
            {
                Add($"nodes[{node}] (removed)");
                continue;
            }

            Add(FileKey(path));
        }

        foreach (var path in after.Keys.Where(p => !beforeKeys.Contains(p)))
        {
            Add(NodeOf(path) is { } node && !runningNodes.Contains(node) ? $"nodes[{node}] (added)" : FileKey(path));
        }

        var weights = running.Nodes
            .Join(candidate.Nodes, n => n.Name, n => n.Name, (r, c) => new NodeWeightChange(r.Name, r.Weight, c.Weight), StringComparer.Ordinal)
            .Where(w => w.From != w.To)
            .OrderBy(w => w.Node, StringComparer.Ordinal)
            .ToList();
        return new ClusterConfigDiff
        {
            RestartKeys = keys,
            WeightChanges = weights,
            RunningVersion = running.Version,
            CandidateVersion = candidate.Version,
        };
    }

    /// <summary>The node a canonical path belongs to (<c>node.NAME.setting</c>), or null.</summary>
    private static string? NodeOf(string path)
    {
        if (!path.StartsWith("node.", StringComparison.Ordinal))
        {
            return null;
        }

        int end = path.LastIndexOf('.');
        return end > 5 ? path[5..end] : null;
    }

    /// <summary>A canonical path as the cluster file spells the setting.</summary>
    private static string FileKey(string path)
    {
        if (NodeOf(path) is { } node)
        {
            return $"nodes[{node}].{path[(path.LastIndexOf('.') + 1)..]}";
        }

        return path switch
        {
            "key_sha256" => "key",
            _ when path.EndsWith("_ms", StringComparison.Ordinal) => path[..^3],
            _ => path,
        };
    }
}
