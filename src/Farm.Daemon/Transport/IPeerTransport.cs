namespace Farm.Daemon.Transport;

/// <summary>Sends the membership manager's requests to peers; answers come back through the host.</summary>
internal interface IPeerTransport
{
    /// <summary>Starts sending <paramref name="request"/> and returns at once: never blocks the caller (the heartbeat thread).</summary>
    void Send(OutboundRequest request);

    /// <summary>
    /// Connects once to <paramref name="peer"/>'s port on every LAN and returns at once; where the port refuses (the
    /// host is up, nothing listens) the membership hears that the peer's process died, as after a broken stream.
    /// <paramref name="trigger"/> says why, for the log.
    /// </summary>
    void ProbeGone(string peer, string trigger);
}
