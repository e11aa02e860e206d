namespace Farm.Daemon.Transport;

/// <summary>Sends the membership manager's requests to peers; answers come back through the host.</summary>
internal interface IPeerTransport
{
    /// <summary>Starts sending <paramref name="request"/> and returns at once: never blocks the caller (the heartbeat thread).</summary>
    void Send(OutboundRequest request);
}
