using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using PacketDotNet;
using PacketDotNet.Utils;

namespace Farm.DataPlane.Neighbors;

/// <summary>
/// Parses and builds the Ethernet frames of address resolution: ARP (RFC 826) and IPv6 neighbor discovery
/// (RFC 4861). Pure functions; parsing and the ARP frames go through PacketDotNet, the neighbor advertisement is
/// written here (see <see cref="NeighborAdvertisement"/> for why).
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

    /// <summary>The BPF filter of the frames the responder needs: ARP, and ICMPv6 neighbor solicitations without extension headers.</summary>
    /// <remarks>
    /// Not <c>inbound and (...)</c>, though the host's own outgoing ARP/NS pass this filter (they never ask for a VIP,
    /// so they go unanswered): with <c>inbound</c>, libpcap 1.10.3 dropped the first frame after the capture opened
    /// (tested on veth), i.e. the first request would go unanswered. SharpPcap has no <c>pcap_setdirection</c>, which
    /// the earlier bindings used instead. The responder's own frames never come back: a packet socket does not see
    /// what it sends itself.
    /// </remarks>
    public const string CaptureFilter = "arp or (icmp6 and ip6[6] == 58 and ip6[40] == 135)";

    private const int Ipv6HeaderLength = 40;
    private const int SolicitationLength = 24;
    private const byte NextHeaderIcmpv6 = 58;
    private const byte NeighborAdvertisementType = 136;
    private const byte OptionSourceLinkLayer = 1;
    private const byte OptionTargetLinkLayer = 2;
    private const byte NdHopLimit = 255;

    private delegate bool EthernetParser<T>(EthernetPacket ethernet, out T value);

    private static readonly PhysicalAddress Broadcast = new([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    private static readonly PhysicalAddress Unknown = new(new byte[6]);

    /// <summary>All-nodes multicast ff02::1, the destination of unsolicited advertisements.</summary>
    public static readonly IPAddress AllNodes = IPAddress.Parse("ff02::1");

    /// <summary>
    /// Wraps a captured frame for the parsers (PacketDotNet works on arrays, so the frame is copied); null when it is
    /// too short to hold an Ethernet header.
    /// </summary>
    public static EthernetPacket? ReadEthernet(ReadOnlySpan<byte> frame) =>
        frame.Length < EthernetHeaderLength ? null : new EthernetPacket(new ByteArraySegment(frame.ToArray()));

    /// <summary>What <paramref name="parse"/> finds in a captured frame (see <see cref="ReadEthernet"/>); false for a frame too short.</summary>
    private static bool TryParseFrame<T>(ReadOnlySpan<byte> frame, EthernetParser<T> parse, out T value)
        where T : struct
    {
        value = default;
        return ReadEthernet(frame) is { } ethernet && parse(ethernet, out value);
    }

    /// <summary>Parses an ARP request for an IPv4 address over Ethernet; false for anything else.</summary>
    public static bool TryParseArpRequest(ReadOnlySpan<byte> frame, out ArpRequest request) =>
        TryParseFrame(frame, TryParseArpRequest, out request);

    /// <inheritdoc cref="TryParseArpRequest(ReadOnlySpan{byte}, out ArpRequest)"/>
    public static bool TryParseArpRequest(EthernetPacket ethernet, out ArpRequest request)
    {
        ArgumentNullException.ThrowIfNull(ethernet);
        request = default;

        // PacketDotNet reads the ARP fields at fixed offsets and throws past the end of a short frame: check the length first.
        var bytes = ethernet.HeaderSegment;
        if (ethernet.Type != EthernetType.Arp || bytes.BytesLength - bytes.Offset < ArpFrameLength || ethernet.PayloadPacket is not ArpPacket arp)
        {
            return false;
        }

        if (arp.HardwareAddressType != LinkLayers.Ethernet || arp.ProtocolAddressType != EthernetType.IPv4
            || arp.HardwareAddressLength != 6 || arp.ProtocolAddressLength != 4 || arp.Operation != ArpOperation.Request)
        {
            return false;
        }

        request = new ArpRequest(arp.SenderHardwareAddress, arp.SenderProtocolAddress, arp.TargetProtocolAddress);
        return true;
    }

    /// <summary>
    /// Builds an ARP reply telling <paramref name="requesterMac"/> that <paramref name="vip"/> is at <paramref name="vmac"/>;
    /// the Ethernet source is the node's own <paramref name="nodeMac"/>.
    /// </summary>
    public static byte[] ArpReply(PhysicalAddress nodeMac, PhysicalAddress vmac, IPAddress vip, PhysicalAddress requesterMac, IPAddress requesterAddress) =>
        Arp(requesterMac, nodeMac, ArpOperation.Response, vmac, vip, requesterMac, requesterAddress);

    /// <summary>
    /// Builds a gratuitous ARP (a broadcast request for the VIP by the VIP, RFC 5227 announcement) that makes every
    /// neighbor's cache point <paramref name="vip"/> at <paramref name="vmac"/>.
    /// </summary>
    public static byte[] GratuitousArp(PhysicalAddress nodeMac, PhysicalAddress vmac, IPAddress vip) =>
        Arp(Broadcast, nodeMac, ArpOperation.Request, vmac, vip, Unknown, vip);

    /// <summary>Parses an ICMPv6 neighbor solicitation (hop limit 255, code 0, valid checksum); false for anything else.</summary>
    public static bool TryParseNeighborSolicitation(ReadOnlySpan<byte> frame, out NeighborSolicitation solicitation) =>
        TryParseFrame(frame, TryParseNeighborSolicitation, out solicitation);

    /// <inheritdoc cref="TryParseNeighborSolicitation(ReadOnlySpan{byte}, out NeighborSolicitation)"/>
    public static bool TryParseNeighborSolicitation(EthernetPacket ethernet, out NeighborSolicitation solicitation)
    {
        ArgumentNullException.ThrowIfNull(ethernet);
        solicitation = default;
        var bytes = ethernet.HeaderSegment;
        int available = bytes.BytesLength - bytes.Offset - EthernetHeaderLength;

        // PacketDotNet throws on an IPv6 header or NDP message cut short, and parses extension headers eagerly (throwing on
        // a malformed chain): check the lengths, and that ICMPv6 follows the fixed header (as the capture filter demands),
        // before it touches either.
        if (ethernet.Type != EthernetType.IPv6 || available < Ipv6HeaderLength + SolicitationLength
            || (bytes.Bytes[bytes.Offset + EthernetHeaderLength] >> 4) != 6
            || bytes.Bytes[bytes.Offset + EthernetHeaderLength + 6] != NextHeaderIcmpv6)
        {
            return false;
        }

        var ip = (IPv6Packet)ethernet.PayloadPacket;
        int payloadLength = ip.PayloadLength;
        if (ip.HopLimit != NdHopLimit || payloadLength < SolicitationLength || Ipv6HeaderLength + payloadLength > available)
        {
            return false;
        }

        if (Ipv6HeaderLength + payloadLength < available)
        {
            // Ethernet padding or a trailer after the IPv6 payload: PacketDotNet would sum it into the checksum.
            int length = EthernetHeaderLength + Ipv6HeaderLength + payloadLength;
            ethernet = new EthernetPacket(new ByteArraySegment(bytes.Bytes, bytes.Offset, length, bytes.Offset + length));
            ip = (IPv6Packet)ethernet.PayloadPacket;
        }

        if (ip.PayloadPacket is not IcmpV6Packet { Type: IcmpV6Type.NeighborSolicitation, Code: 0 } icmp || !icmp.ValidIcmpChecksum
            || icmp.PayloadPacket is not NdpNeighborSolicitationPacket ns)
        {
            return false;
        }

        if (!TryReadSourceLinkLayer(ns.OptionsSegment, out var sourceLinkLayer))
        {
            return false;
        }

        solicitation = new NeighborSolicitation(ethernet.SourceHardwareAddress, ip.SourceAddress, ns.TargetAddress, sourceLinkLayer);
        return true;
    }

    /// <summary>
    /// Builds a neighbor advertisement for <paramref name="vip"/> carrying <paramref name="vmac"/> as target link-layer
    /// address, from the node's <paramref name="nodeMac"/>, with the override flag so caches replace an older entry.
    /// </summary>
    /// <remarks>
    /// Written here rather than with PacketDotNet: PacketDotNet 1.4.8 has no constructor for NDP messages, and an
    /// <c>IcmpV6Packet</c> carrying an <c>NdpNeighborAdvertisementPacket</c> serializes the 4-byte ICMPv6 header twice
    /// (90 bytes instead of 86, payload length 36: the frame is invalid). The tests check what is written here with
    /// PacketDotNet's parser and checksum.
    /// </remarks>
    /// <param name="nodeMac">Ethernet source: the node's real MAC.</param>
    /// <param name="vmac">The VIP's virtual MAC.</param>
    /// <param name="vip">The advertised address (also the IPv6 source).</param>
    /// <param name="destinationMac">Ethernet destination.</param>
    /// <param name="destinationAddress">IPv6 destination: the solicitor, or ff02::1 when unsolicited.</param>
    /// <param name="solicited">Sets the solicited flag (a reply to a solicitation).</param>
    public static byte[] NeighborAdvertisement(
        PhysicalAddress nodeMac,
        PhysicalAddress vmac,
        IPAddress vip,
        PhysicalAddress destinationMac,
        IPAddress destinationAddress,
        bool solicited)
    {
        RequireFamily(vip, AddressFamily.InterNetworkV6);
        RequireFamily(destinationAddress, AddressFamily.InterNetworkV6);
        byte[] frame = new byte[NeighborAdvertisementFrameLength];
        WriteMac(frame.AsSpan(0, 6), destinationMac);
        WriteMac(frame.AsSpan(6, 6), nodeMac);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), (ushort)EthernetType.IPv6);

        var ip = frame.AsSpan(EthernetHeaderLength);
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
        return frame;
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

    /// <summary>
    /// Walks the options of a solicitation for the source link-layer address; false when an option is malformed.
    /// </summary>
    /// <remarks>
    /// Our own walk, not PacketDotNet's <c>OptionsCollection</c>: in 1.4.8 that loop never ends on an option of length
    /// zero (it adds the same option again and again), so one crafted frame would hang the responder and exhaust memory.
    /// RFC 4861 4.6 says such a message is discarded.
    /// </remarks>
    private static bool TryReadSourceLinkLayer(ByteArraySegment segment, out PhysicalAddress? sourceLinkLayer)
    {
        sourceLinkLayer = null;
        for (var options = new ReadOnlySpan<byte>(segment.Bytes, segment.Offset, segment.Length); options.Length >= 2;)
        {
            int length = options[1] * 8;
            if (length == 0 || length > options.Length)
            {
                return false;
            }

            if (options[0] == OptionSourceLinkLayer && length == 8)
            {
                sourceLinkLayer = new PhysicalAddress(options.Slice(2, 6).ToArray());
            }

            options = options[length..];
        }

        return true;
    }

    private static byte[] Arp(PhysicalAddress ethernetDestination, PhysicalAddress nodeMac, ArpOperation operation, PhysicalAddress senderMac, IPAddress senderAddress, PhysicalAddress targetMac, IPAddress targetAddress)
    {
        RequireFamily(senderAddress, AddressFamily.InterNetwork);
        RequireFamily(targetAddress, AddressFamily.InterNetwork);
        RequireMac(ethernetDestination);
        RequireMac(nodeMac);
        RequireMac(senderMac);
        RequireMac(targetMac);
        var arp = new ArpPacket(operation, targetMac, targetAddress, senderMac, senderAddress);
        return new EthernetPacket(nodeMac, ethernetDestination, EthernetType.Arp) { PayloadPacket = arp }.Bytes;
    }

    private static void WriteMac(Span<byte> destination, PhysicalAddress mac)
    {
        RequireMac(mac);
        mac.GetAddressBytes().CopyTo(destination);
    }

    private static void RequireMac(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        if (mac.GetAddressBytes().Length != 6)
        {
            throw new ArgumentException($"{mac} is not a 6-byte MAC address.", nameof(mac));
        }
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
