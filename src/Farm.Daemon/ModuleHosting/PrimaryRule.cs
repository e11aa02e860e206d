namespace Farm.Daemon.ModuleHosting;

/// <summary>When this node must be the primary of a <c>single</c> module (and so run start_prim).</summary>
internal static class PrimaryRule
{
    /// <summary>
    /// True when the installed view gives <paramref name="self"/> every bucket of <paramref name="module"/> and no live
    /// previous primary may still be serving. Buckets taken from a node that left the view, or from one that gave the
    /// module up (it ran stop_prim before it closed), are taken at once. Buckets still <c>incoming</c> from a node that
    /// keeps the module ready (failback: it is being displaced and runs stop_prim now), or from a node this one never
    /// saw own them (it joined meanwhile), wait for the end of the drain: the previous primary's stop_prim goes first.
    /// </summary>
    /// <param name="self">This node's name.</param>
    /// <param name="module">The module.</param>
    /// <param name="installed">The installed view.</param>
    /// <param name="incoming">How many of the module's buckets are still incoming on this node (from the same read as the view).</param>
    /// <param name="previousOwner">The module's owner before this node, as this node saw it; null when unknown.</param>
    public static bool ShouldBePrimary(string self, string module, ClusterView? installed, int incoming, string? previousOwner)
    {
        ArgumentNullException.ThrowIfNull(self);
        if (installed is null || !installed.Tables.TryGetValue(module, out var table) || table.BucketCount == 0 || table.CountOf(self) != table.BucketCount)
        {
            return false;
        }

        if (incoming == 0)
        {
            return true;
        }

        if (previousOwner is null || previousOwner == self)
        {
            return false;
        }

        return installed.Find(previousOwner) is not { Leaving: false } previous || !previous.ReadyModules.Contains(module, StringComparer.Ordinal);
    }
}
