namespace Farm.Testing.Network;

/// <summary>
/// Sends UDP datagrams with any source address and port (IP_TRANSPARENT / IPV6_TRANSPARENT), so one namespace can
/// play thousands of clients. Call it on a thread inside a namespace (<see cref="NetworkNamespace.RunAsync{T}(Func{T})"/>).
/// </summary>
/// <remarks>
/// The source is deliberately unrestricted (hash tests need keys from the whole address space), but the destination
/// must be a test address, so such a packet can only go to an interface of a test namespace.
/// </remarks>
public static class TransparentUdpSender
{
    /// <summary>
    /// Sends one datagram from <paramref name="source"/> to <paramref name="destination"/>. Returns false when the
    /// local firewall dropped it on output (the kernel reports EPERM), true when it was sent.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The destination is not a test address.</exception>
    /// <exception cref="SocketException">The socket could not be set up or the send failed for another reason.</exception>
    public static bool Send(IPEndPoint source, IPEndPoint destination, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        TestAddresses.Require(destination.Address);
        if (source.AddressFamily != destination.AddressFamily)
        {
            throw new ArgumentException($"Source {source} and destination {destination} are of different address families.", nameof(source));
        }

        using var socket = new Socket(source.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        ReadOnlySpan<byte> on = [1, 0, 0, 0];
        if (source.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.SetRawSocketOption(LinuxSocketOptions.Ipv6.Level, LinuxSocketOptions.Ipv6.Transparent, on);
        }
        else
        {
            socket.SetRawSocketOption(LinuxSocketOptions.Ip.Level, LinuxSocketOptions.Ip.Transparent, on);
        }

        socket.Bind(source);
        try
        {
            socket.SendTo(payload, destination);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            // EPERM from sendto() on a UDP socket means a netfilter drop verdict on the output path.
            return false;
        }
    }
}
