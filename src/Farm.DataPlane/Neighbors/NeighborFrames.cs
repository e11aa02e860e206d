using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Farm.DataPlane.Neighbors;

/// <summary>
/// Builds and parses the Ethernet frames of address resolution: ARP (RFC 826) and IPv6 neighbor discovery
/// (RFC 4861). Pure functions over spans.
/// </summary>
/// <remarks>
/// The invariant of the invisible vMAC lives here: the vMAC is only ever written as ARP <em>sender hardware
/// address</em> or NDP <em>target link-layer address</em>, never as the Ethernet source, so no switch learns it and
/// every frame to it is flooded to all nodes.
/// </remarks>
internal static class NeighborFrames
{
    /// <summary>Ethernet header length.</summary>
    public const int EthernetHeaderLength = 14;

    /// <summary>An ARP frame without padding.</summary>
    public const int ArpFrameLength = EthernetHeaderLength + 28;

    /// <summary>A neighbor advertisement with one target link-layer option.</summary>
    public const int NeighborAdvertisementFrameLength = EthernetHeaderLength + Ipv6HeaderLength + 32;

    /// <summary>The largest frame this class builds.</summary>
    public const int MaxFrameLength = NeighborAdvertisementFrameLength;

    /// <summary>The BPF filter of the frames the responder needs: ARP, and ICMPv6 neighbor solicitations without extension headers.</summary>
    public const string CaptureFilter = "arp or (icmp6 and ip6[6] == 58 and ip6[40] == 135)";

    private const ushort EtherTypeArp = 0x0806;
    private const ushort EtherTypeIPv4 = 0x0800;
    private const ushort EtherTypeIPv6 = 0x86dd;
    private const int Ipv6HeaderLength = 40;
    private const byte NextHeaderIcmpv6 = 58;
    private const byte NeighborSolicitationType = 135;
    private const byte NeighborAdvertisementType = 136;
    private const byte OptionSourceLinkLayer = 1;
    private const byte OptionTargetLinkLayer = 2;
    private const byte NdHopLimit = 255;

    private static readonly PhysicalAddress Broadcast = new([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

    /// <summary>All-nodes multicast ff02::1, the destination of unsolicited advertisements.</summary>
    public static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");

    /// <summary>Parses an ARP request for an IPv4 address over Ethernet; false for anything else.</summary>
    public static bool TryParseArpRequest(ReadOnlySpan<byte> frame, out ArpRequest request)
    {
        request = default;
        if (frame.Length < ArpFrameLength || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherTypeArp)
        {
            return false;
        }

        var arp = frame[EthernetHeaderLength..];
        if (BinaryPrimitives.ReadUInt16BigEndian(arp) != 1            // hardware type Ethernet
            || BinaryPrimitives.ReadUInt16BigEndian(arp[2..]) != EtherTypeIPv4
            || arp[4] != 6 || arp[5] != 4
            || BinaryPrimitives.ReadUInt16BigEndian(arp[6..]) != 1)  // operation: request
        {
            return false;
        }

        request = new ArpRequest(new PhysicalAddress(arp.Slice(8, 6).ToArray()), new IPAddress(arp.Slice(14, 4)), new IPAddress(arp.Slice(24, 4)));
        return true;
    }

    /// <summary>
    /// Writes an ARP reply telling <paramref name="requesterMac"/> that <paramref name="vip"/> is at <paramref name="vmac"/>;
    /// the Ethernet source is the node's own <paramref name="nodeMac"/>. Returns the frame length.
    /// </summary>
    public static int WriteArpReply(Span<byte> destination, PhysicalAddress nodeMac, PhysicalAddress vmac, IPAddress vip, PhysicalAddress requesterMac, IPAddress requesterAddress) =>
        WriteArp(destination, requesterMac, nodeMac, operation: 2, vmac, vip, requesterMac, requesterAddress);

    /// <summary>
    /// Writes a gratuitous ARP (a broadcast request for the VIP by the VIP, RFC 5227 announcement) that makes every
    /// neighbor's cache point <paramref name="vip"/> at <paramref name="vmac"/>. Returns the frame length.
    /// </summary>
    public static int WriteGratuitousArp(Span<byte> destination, PhysicalAddress nodeMac, PhysicalAddress vmac, IPAddress vip) =>
        WriteArp(destination, Broadcast, nodeMac, operation: 1, vmac, vip, new PhysicalAddress(new byte[6]), vip);

    /// <summary>Parses an ICMPv6 neighbor solicitation (hop limit 255, code 0, valid checksum); false for anything else.</summary>
    public static bool TryParseNeighborSolicitation(ReadOnlySpan<byte> frame, out NeighborSolicitation solicitation)
    {
        solicitation = default;
        if (frame.Length < EthernetHeaderLength + Ipv6HeaderLength + 24 || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != EtherTypeIPv6)
        {
            return false;
        }

        var ip = frame[EthernetHeaderLength..];
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        if ((ip[0] >> 4) != 6 || ip[6] != NextHeaderIcmpv6 || ip[7] != NdHopLimit || payloadLength < 24 || Ipv6HeaderLength + payloadLength > ip.Length)
        {
            return false;
        }

        var source = ip.Slice(8, 16);
        var target = ip.Slice(24, 16);
        var icmp = ip.Slice(Ipv6HeaderLength, payloadLength);
        if (icmp[0] != NeighborSolicitationType || icmp[1] != 0 || Icmpv6Checksum(source, target, icmp) != 0)
        {
            return false;
        }

        PhysicalAddress? sourceLinkLayer = null;
        for (var options = icmp[24..]; options.Length >= 8;)
        {
            int length = options[1] * 8;
            if (length == 0 || length > options.Length)
            {
                return false; // RFC 4861 4.6: a zero-length option invalidates the message
            }

            if (options[0] == OptionSourceLinkLayer && length == 8)
            {
                sourceLinkLayer = new PhysicalAddress(options.Slice(2, 6).ToArray());
            }

            options = options[length..];
        }

        solicitation = new NeighborSolicitation(
            new PhysicalAddress(frame.Slice(6, 6).ToArray()),
            new IPAddress(source),
            new IPAddress(icmp.Slice(8, 16)),
            sourceLinkLayer);
        return true;
    }

    /// <summary>
    /// Writes a neighbor advertisement for <paramref name="vip"/> carrying <paramref name="vmac"/> as target link-layer
    /// address, from the node's <paramref name="nodeMac"/>, with the override flag so caches replace an older entry.
    /// Returns the frame length.
    /// </summary>
    /// <param name="destination">The frame buffer.</param>
    /// <param name="nodeMac">Ethernet source: the node's real MAC.</param>
    /// <param name="vmac">The VIP's virtual MAC.</param>
    /// <param name="vip">The advertised address (also the IPv6 source).</param>
    /// <param name="destinationMac">Ethernet destination.</param>
    /// <param name="destinationAddress">IPv6 destination: the solicitor, or ff02::1 when unsolicited.</param>
    /// <param name="solicited">Sets the solicited flag (a reply to a solicitation).</param>
    public static int WriteNeighborAdvertisement(
        Span<byte> destination,
        PhysicalAddress nodeMac,
        PhysicalAddress vmac,
        IPAddress vip,
        PhysicalAddress destinationMac,
        IPAddress destinationAddress,
        bool solicited)
    {
        ArgumentNullException.ThrowIfNull(vip);
        ArgumentNullException.ThrowIfNull(destinationAddress);
        RequireFamily(vip, AddressFamily.InterNetworkV6);
        RequireFamily(destinationAddress, AddressFamily.InterNetworkV6);
        var frame = destination[..NeighborAdvertisementFrameLength];
        frame.Clear();
        WriteEthernet(frame, destinationMac, nodeMac, EtherTypeIPv6);

        var ip = frame[EthernetHeaderLength..];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 32);
        ip[6] = NextHeaderIcmpv6;
        ip[7] = NdHopLimit;
        vip.TryWriteBytes(ip.Slice(8, 16), out _);
        destinationAddress.TryWriteBytes(ip.Slice(24, 16), out _);

        var icmp = ip.Slice(Ipv6HeaderLength, 32);
        icmp[0] = NeighborAdvertisementType;
        icmp[4] = (byte)((solicited ? 0x40 : 0) | 0x20); // S and O; R stays clear: a host, not a router
        vip.TryWriteBytes(icmp.Slice(8, 16), out _);
        icmp[24] = OptionTargetLinkLayer;
        icmp[25] = 1;
        WriteMac(icmp.Slice(26, 6), vmac);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Icmpv6Checksum(ip.Slice(8, 16), ip.Slice(24, 16), icmp));
        return NeighborAdvertisementFrameLength;
    }

    /// <summary>The Ethernet multicast address of an IPv6 multicast address: 33:33 and its last four bytes (RFC 2464).</summary>
    public static PhysicalAddress MulticastMac(IPAddress multicast)
    {
        ArgumentNullException.ThrowIfNull(multicast);
        byte[] bytes = multicast.GetAddressBytes();
        return new PhysicalAddress([0x33, 0x33, bytes[12], bytes[13], bytes[14], bytes[15]]);
    }

    /// <summary>The solicited-node multicast group of <paramref name="address"/>: ff02::1:ff and its last three bytes.</summary>
    public static IPAddress SolicitedNodeGroup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        byte[] bytes = address.GetAddressBytes();
        byte[] group = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, bytes[13], bytes[14], bytes[15]];
        return new IPAddress(group);
    }

    /// <summary>
    /// The ICMPv6 checksum (RFC 4443 2.3) over the pseudo-header (source, destination, length, next header 58) and
    /// <paramref name="message"/>. Computing it over a message that holds a correct checksum yields 0.
    /// </summary>
    public static ushort Icmpv6Checksum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message)
    {
        ulong sum = 0;
        sum += SumWords(source);
        sum += SumWords(destination);
        sum += (uint)message.Length;
        sum += NextHeaderIcmpv6;
        sum += SumWords(message);
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    private static int WriteArp(Span<byte> destination, PhysicalAddress ethernetDestination, PhysicalAddress nodeMac, ushort operation, PhysicalAddress senderMac, IPAddress senderAddress, PhysicalAddress targetMac, IPAddress targetAddress)
    {
        RequireFamily(senderAddress, AddressFamily.InterNetwork);
        RequireFamily(targetAddress, AddressFamily.InterNetwork);
        var frame = destination[..ArpFrameLength];
        WriteEthernet(frame, ethernetDestination, nodeMac, EtherTypeArp);
        var arp = frame[EthernetHeaderLength..];
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], EtherTypeIPv4);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], operation);
        WriteMac(arp.Slice(8, 6), senderMac);
        senderAddress.TryWriteBytes(arp.Slice(14, 4), out _);
        WriteMac(arp.Slice(18, 6), targetMac);
        targetAddress.TryWriteBytes(arp.Slice(24, 4), out _);
        return ArpFrameLength;
    }

    private static void WriteEthernet(Span<byte> frame, PhysicalAddress destination, PhysicalAddress source, ushort etherType)
    {
        WriteMac(frame[..6], destination);
        WriteMac(frame.Slice(6, 6), source);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], etherType);
    }

    private static void WriteMac(Span<byte> destination, PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        byte[] bytes = mac.GetAddressBytes();
        if (bytes.Length != 6)
        {
            throw new ArgumentException($"{mac} is not a 6-byte MAC address.", nameof(mac));
        }

        bytes.CopyTo(destination);
    }

    private static void RequireFamily(IPAddress address, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != family)
        {
            throw new ArgumentException($"{address} is not {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")}.", nameof(address));
        }
    }

    private static ulong SumWords(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (ulong)data[i] << 8; // an odd last byte is padded with zero
        }

        return sum;
    }
}
