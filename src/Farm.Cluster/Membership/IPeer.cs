namespace Farm.Cluster.Membership;

/// <summary>What this node knows about one peer from its messages. Read-only: <see cref="PeerMonitor"/> alone changes it.</summary>
internal interface IPeer
{
    /// <summary>Peer name from the cluster file.</summary>
    string Name { get; }

    /// <summary>What the peer last said about itself while admitted, or null.</summary>
    MemberInfo? Info { get; }

    /// <summary>The peer's config hash as last heard, or null.</summary>
    string? ConfigHash { get; }

    /// <summary>Last admitted message (MinValue = never).</summary>
    TimeSpan LastHeard { get; }

    /// <summary>Last message of any config hash, admitted or not (MinValue = never).</summary>
    TimeSpan LastHeardAny { get; }

    /// <summary>Installed view reported by the peer, whatever its config hash.</summary>
    ViewId? InstalledAny { get; }

    /// <summary>Installed view reported by the peer while admitted.</summary>
    ViewId? Installed { get; }

    /// <summary>Promised view reported by the peer while admitted.</summary>
    ViewId? Promised { get; }

    /// <summary>The peer said it lost the witness (policy witness): it must not coordinate.</summary>
    bool WitnessLost { get; }

    /// <summary>The transport saw the peer's process die (see <see cref="PeerMonitor.NoteGone"/>); cleared by its next message.</summary>
    bool Gone { get; }

    /// <summary>The transport saw signs of life from the peer that are not messages yet (first contact).</summary>
    bool Contacted { get; }

    /// <summary>The peer's latest drain report (null before any).</summary>
    DrainReport? Drains { get; }

    /// <summary>The latest moment of our clock after which the peer is known to have lived (MinValue = none; see <see cref="PeerMonitor.Vouches"/>).</summary>
    TimeSpan LastProvenAlive { get; }

    /// <summary>The peer's heartbeats echo ours (a release that knows <see cref="HeartbeatRequest.Echo"/>).</summary>
    bool Echoes { get; }

    /// <summary>True when the peer's latest answer, to a round trip started at or after <paramref name="since"/>, lists us.</summary>
    bool ConfirmsSince(TimeSpan since);

    /// <summary>Start of the newest round trip whose answer listed us (MinValue = none).</summary>
    TimeSpan LastConfirmedRoundTripStart { get; }
}
