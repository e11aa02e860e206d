namespace Farm.Testing.Network;

/// <summary>Linux socket option levels and names (linux/socket.h, linux/in.h, linux/in6.h) that .NET has no named constants for.</summary>
internal static class LinuxSocketOptions
{
    /// <summary>SOL_SOCKET.</summary>
    internal const int SolSocket = 1;

    /// <summary>SOL_IP.</summary>
    internal const int SolIp = 0;

    /// <summary>SOL_IPV6.</summary>
    internal const int SolIpv6 = 41;

    /// <summary>SO_RCVBUFFORCE: a receive buffer beyond net.core.rmem_max (root only).</summary>
    internal const int SoRcvBufForce = 33;

    /// <summary>IP_FREEBIND: bind an address the host does not have (yet).</summary>
    internal const int IpFreebind = 15;

    /// <summary>IPV6_FREEBIND.</summary>
    internal const int Ipv6Freebind = 78;

    /// <summary>IP_TRANSPARENT: send from an address the host does not have.</summary>
    internal const int IpTransparent = 19;

    /// <summary>IPV6_TRANSPARENT.</summary>
    internal const int Ipv6Transparent = 75;

    /// <summary>IP_BIND_ADDRESS_NO_PORT: bind the source address now, pick the port at connect.</summary>
    internal const int IpBindAddressNoPort = 24;
}
