namespace Farm.DataPlane.Conntrack;

/// <summary>
/// The request/reply transport under <see cref="NetlinkConntrackTable"/>: a netlink socket in production, a scripted
/// fake in tests (so lost replies, interrupted and abandoned dumps can be played back).
/// </summary>
internal interface INetlinkChannel : IDisposable
{
    /// <summary>The receive buffer limit in bytes (kernel overhead included): how much may wait unread before replies are dropped.</summary>
    int ReceiveBufferSize { get; }

    /// <summary>Sends one request datagram (one or more netlink messages back to back) to the kernel.</summary>
    /// <exception cref="Farm.Native.Linux.NetlinkException">The send failed.</exception>
    void Send(ReadOnlySpan<byte> datagram);

    /// <summary>Receives one datagram; returns its full length, which exceeds the buffer's when it did not fit.</summary>
    /// <exception cref="Farm.Native.Linux.NetlinkException">The receive failed; errno EAGAIN on timeout, ENOBUFS when replies were dropped.</exception>
    int Receive(Span<byte> buffer);

    /// <summary>Receives one datagram if one is queued, without waiting (as <see cref="Receive"/>); false when none is.</summary>
    /// <exception cref="Farm.Native.Linux.NetlinkException">The receive failed; errno ENOBUFS when replies were dropped.</exception>
    bool TryReceive(Span<byte> buffer, out int length);
}
