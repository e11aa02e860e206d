using System.Collections.Immutable;

namespace Farm.Cluster.Membership;

/// <summary>What this node knows about one peer, for status (a copy; never changes).</summary>
/// <param name="Name">Peer name from the cluster file.</param>
/// <param name="Info">What the peer last said about itself (incarnation, weight, modules), or null if never admitted.</param>
/// <param name="Reachable">Heard within the detection timeout and admitted.</param>
/// <param name="ConfigHash">The peer's config hash as last heard, or null.</param>
/// <param name="ConfigMatches">The peer's config hash equals ours.</param>
/// <param name="LastHeard">Last admitted message, or null.</param>
/// <param name="LastHeardAny">Last message of any config hash, or null.</param>
/// <param name="LastHeardPerLan">Last admitted message per LAN (null = never).</param>
/// <param name="Installed">The view the peer reports as installed.</param>
/// <param name="Promised">The view the peer reports as promised.</param>
/// <param name="Drains">The peer's hand-over progress per module, as its latest heartbeat said (empty before any).</param>
/// <param name="LostAt">When this node stops hearing the peer unless something new comes: the last admitted message plus
/// the detection timeout plus this node's stalls since (<see cref="StallLedger"/>); null when never heard.</param>
public sealed record PeerStatus(
    string Name,
    MemberInfo? Info,
    bool Reachable,
    string? ConfigHash,
    bool ConfigMatches,
    TimeSpan? LastHeard,
    TimeSpan? LastHeardAny,
    ImmutableArray<TimeSpan?> LastHeardPerLan,
    ViewId? Installed,
    ViewId? Promised,
    ImmutableArray<ModuleDrainStatus> Drains,
    TimeSpan? LostAt);
