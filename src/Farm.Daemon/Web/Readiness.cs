namespace Farm.Daemon.Web;

/// <summary>
/// Answers of <c>/ready/MODULE</c> for external load balancers and monitors (SafeKit's ready.txt): whether this node
/// serves a module right now, from the membership state (one short read lock).
/// </summary>
internal static class Readiness
{
    /// <summary>The answer for <paramref name="module"/>.</summary>
    public enum Answer
    {
        /// <summary>Not a module of this node (404).</summary>
        Unknown,

        /// <summary>This node serves it: announced ready, holds buckets of it in the installed view, not leaving (200).</summary>
        Serving,

        /// <summary>Configured here but not served by this node now (503).</summary>
        NotServing,
    }

    /// <summary>Whether this node serves <paramref name="module"/>.</summary>
    public static Answer Of(MembershipHost host, IReadOnlyCollection<string> modules, string module)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(modules);
        if (!modules.Contains(module, StringComparer.Ordinal))
        {
            return Answer.Unknown;
        }

        bool serving = host.Read((m, _) =>
            !m.Self.Leaving
            && m.Self.ReadyModules.Contains(module, StringComparer.Ordinal)
            && m.Installed?.Tables.GetValueOrDefault(module) is { } table
            && table.CountOf(m.Self.Name) > 0);
        return serving ? Answer.Serving : Answer.NotServing;
    }
}
