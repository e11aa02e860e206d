using System.Net;
using System.Net.NetworkInformation;

namespace Farm.DataPlane.Neighbors;

/// <summary>A parsed ICMPv6 neighbor solicitation; <see cref="ReplyMac"/> is where the advertisement goes.</summary>
/// <param name="EthernetSource">Ethernet source of the frame.</param>
/// <param name="Source">IPv6 source; unspecified (::) for duplicate address detection.</param>
/// <param name="Target">The address asked for.</param>
/// <param name="SourceLinkLayer">The source link-layer address option, when present.</param>
internal readonly record struct NeighborSolicitation(PhysicalAddress EthernetSource, IPAddress Source, IPAddress Target, PhysicalAddress? SourceLinkLayer)
{
    /// <summary>The MAC to answer to: the option when present (RFC 4861 7.2.4), else the frame's source.</summary>
    public PhysicalAddress ReplyMac => SourceLinkLayer ?? EthernetSource;
}
