using System.Collections.Immutable;
using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>The parts of a module's configuration that shape its bucket table (identical on every node).</summary>
public sealed record ModuleSpec(string Name, int BucketCount, BucketMode Mode, bool Failback)
{
    /// <summary>
    /// How long a hand-over may last: a bucket drains at most this long on its previous owner (then it is dropped there),
    /// and the new owner waits at most this long plus a detection timeout for the previous owner's report. Default 30 s.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// This node's module definition hash (<c>ModuleConfig.ComputeHash</c>), announced in every heartbeat. Default empty:
    /// nothing announced, the module is not compared (as with a node that predates agreement).
    /// </summary>
    public string Hash { get; init; } = "";

    /// <summary>The canonical lines behind <see cref="Hash"/> (<c>ModuleConfigHasher.Lines</c>). Default none.</summary>
    public ImmutableArray<string> Settings { get; init; } = [];

    /// <summary>What this node announces about the module, or null when it has no hash.</summary>
    public ModuleDefinition? ToDefinition() =>
        Hash.Length == 0 ? null : new ModuleDefinition(Name, Hash, BucketCount, Mode, Failback, Settings);
}
