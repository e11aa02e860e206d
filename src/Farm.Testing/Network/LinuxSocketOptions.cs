namespace Farm.Testing.Network;

/// <summary>
/// Linux socket option levels and names (linux/socket.h, linux/in.h, linux/in6.h) that .NET has no named constants
/// for, by level: <c>SetRawSocketOption(Ip.Level, Ip.Freebind, ...)</c>.
/// </summary>
internal static class LinuxSocketOptions
{
    /// <summary>SOL_SOCKET and its options.</summary>
    internal static class Socket
    {
        internal const int Level = 1;

        /// <summary>SO_RCVBUFFORCE: a receive buffer beyond net.core.rmem_max (root only).</summary>
        internal const int RcvBufForce = 33;
    }

    /// <summary>SOL_IP and its options.</summary>
    internal static class Ip
    {
        internal const int Level = 0;

        /// <summary>IP_FREEBIND: bind an address the host does not have (yet).</summary>
        internal const int Freebind = 15;

        /// <summary>IP_TRANSPARENT: send from an address the host does not have.</summary>
        internal const int Transparent = 19;

        /// <summary>IP_BIND_ADDRESS_NO_PORT: bind the source address now, pick the port at connect.</summary>
        internal const int BindAddressNoPort = 24;
    }

    /// <summary>SOL_IPV6 and its options.</summary>
    internal static class Ipv6
    {
        internal const int Level = 41;

        /// <summary>IPV6_FREEBIND.</summary>
        internal const int Freebind = 78;

        /// <summary>IPV6_TRANSPARENT.</summary>
        internal const int Transparent = 75;
    }
}
