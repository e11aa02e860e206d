namespace Farm.DataPlane.Conntrack;

/// <summary>
/// The request/reply transport under <see cref="NetlinkConntrackTable"/>: a netlink socket in production, a scripted
/// fake in tests (so lost replies, interrupted and abandoned dumps can be played back).
/// </summary>
internal interface INetlinkChannel : IDisposable
{
    /// <summary>Sends one request datagram to the kernel.</summary>
    /// <exception cref="Farm.Native.Linux.NetlinkException">The send failed.</exception>
    void Send(ReadOnlySpan<byte> datagram);

    /// <summary>Receives one datagram; returns its full length, which exceeds the buffer's when it did not fit.</summary>
    /// <exception cref="Farm.Native.Linux.NetlinkException">The receive failed; errno EAGAIN on timeout, ENOBUFS when replies were dropped.</exception>
    int Receive(Span<byte> buffer);
}
