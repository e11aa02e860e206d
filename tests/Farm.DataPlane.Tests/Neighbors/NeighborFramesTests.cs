using PacketDotNet;

namespace Farm.DataPlane.Tests.Neighbors;

[TestClass]
public sealed class NeighborFramesTests
{
    [TestMethod]
    public void ArpReply_VipAsked_VmacIsSenderHardwareAddressAndNodeMacIsEthernetSource()
    {
        var vmac = VirtualMac.For(Vip4);

        byte[] frame = NeighborFrames.ArpReply(NodeMac, vmac, Vip4, ClientMac, Client4);

        Assert.HasCount(42, frame);
        Assert.AreEqual(1, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14)), "hardware type: Ethernet");
        Assert.AreEqual(0x0800, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(16)), "protocol type: IPv4");
        Assert.AreEqual(6, frame[18]);
        Assert.AreEqual(4, frame[19]);
        CollectionAssert.AreEqual(ClientMac.GetAddressBytes(), frame[0..6], "Ethernet destination: the requester");
        CollectionAssert.AreEqual(NodeMac.GetAddressBytes(), frame[6..12], "Ethernet source: the node's real MAC, never the vMAC");
        Assert.AreEqual(0x0806, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        Assert.AreEqual(2, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(20)), "operation: reply");
        CollectionAssert.AreEqual(vmac.GetAddressBytes(), frame[22..28], "sender hardware address: the vMAC");
        CollectionAssert.AreEqual(Vip4.GetAddressBytes(), frame[28..32]);
        CollectionAssert.AreEqual(ClientMac.GetAddressBytes(), frame[32..38]);
        CollectionAssert.AreEqual(Client4.GetAddressBytes(), frame[38..42]);
    }

    [TestMethod]
    public void GratuitousArp_Vip_BroadcastRequestForItselfByItself()
    {
        byte[] frame = NeighborFrames.GratuitousArp(NodeMac, VirtualMac.For(Vip4), Vip4);

        Assert.HasCount(42, frame);
        Assert.IsTrue(frame[0..6].All(b => b == 0xff));
        CollectionAssert.AreEqual(NodeMac.GetAddressBytes(), frame[6..12]);
        Assert.IsTrue(frame[32..38].All(b => b == 0), "target hardware address: unknown");
        Assert.IsTrue(NeighborFrames.TryParseArpRequest(frame, out var parsed));
        Assert.AreEqual(Vip4, parsed.SenderAddress);
        Assert.AreEqual(Vip4, parsed.TargetAddress);
        Assert.AreEqual(VirtualMac.For(Vip4), parsed.SenderMac);
    }

    [TestMethod]
    public void TryParseArpRequest_Request_ReturnsSenderAndTarget()
    {
        byte[] request = ArpRequestFrame(ClientMac, Client4, Vip4);

        Assert.IsTrue(NeighborFrames.TryParseArpRequest(request, out var parsed));

        Assert.AreEqual(ClientMac, parsed.SenderMac);
        Assert.AreEqual(Client4, parsed.SenderAddress);
        Assert.AreEqual(Vip4, parsed.TargetAddress);
    }

    [TestMethod]
    public void TryParseArpRequest_PaddedToEthernetMinimum_Parsed()
    {
        // Frames shorter than 60 bytes arrive padded with zeros.
        byte[] padded = [.. ArpRequestFrame(ClientMac, Client4, Vip4), .. new byte[18]];

        Assert.IsTrue(NeighborFrames.TryParseArpRequest(padded, out var parsed));

        Assert.AreEqual(Vip4, parsed.TargetAddress);
    }

    [TestMethod]
    public void TryParseArpRequest_ReplyOrShortOrOtherEtherTypeOrHardware_False()
    {
        byte[] reply = NeighborFrames.ArpReply(NodeMac, VirtualMac.For(Vip4), Vip4, ClientMac, Client4);
        Assert.IsFalse(NeighborFrames.TryParseArpRequest(reply, out _), "a reply");
        Assert.IsFalse(NeighborFrames.TryParseArpRequest(ArpRequestFrame(ClientMac, Client4, Vip4).AsSpan(0, 30), out _), "truncated");
        Assert.IsFalse(NeighborFrames.TryParseArpRequest(ArpRequestFrame(ClientMac, Client4, Vip4).AsSpan(0, 10), out _), "shorter than an Ethernet header");
        byte[] ipv6 = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true);
        Assert.IsFalse(NeighborFrames.TryParseArpRequest(ipv6, out _), "IPv6");
        byte[] ieee802 = ArpRequestFrame(ClientMac, Client4, Vip4);
        ieee802[15] = 6;
        Assert.IsFalse(NeighborFrames.TryParseArpRequest(ieee802, out _), "hardware type IEEE 802");
    }

    [TestMethod]
    public void TryParseNeighborSolicitation_ValidWithOption_ReturnsSourceTargetAndOption()
    {
        byte[] frame = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true);

        Assert.IsTrue(NeighborFrames.TryParseNeighborSolicitation(frame, out var ns));

        Assert.AreEqual(Client6, ns.Source);
        Assert.AreEqual(Vip6, ns.Target);
        Assert.AreEqual(ClientMac, ns.SourceLinkLayer);
        Assert.AreEqual(ClientMac, ns.ReplyMac);
    }

    [TestMethod]
    public void TryParseNeighborSolicitation_BadChecksumOrHopLimit_False()
    {
        byte[] badChecksum = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true);
        badChecksum[14 + 40 + 2] ^= 0x01;
        byte[] badHopLimit = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true);
        badHopLimit[14 + 7] = 64;

        Assert.IsFalse(NeighborFrames.TryParseNeighborSolicitation(badChecksum, out _));
        Assert.IsFalse(NeighborFrames.TryParseNeighborSolicitation(badHopLimit, out _));
    }

    [TestMethod]
    public void TryParseNeighborSolicitation_WithoutOption_RepliesToEthernetSource()
    {
        byte[] frame = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: false);

        Assert.IsTrue(NeighborFrames.TryParseNeighborSolicitation(frame, out var ns));

        Assert.IsNull(ns.SourceLinkLayer);
        Assert.AreEqual(ClientMac, ns.ReplyMac);
    }

    [TestMethod]
    public void TryParseNeighborSolicitation_TrailerAfterPayload_Parsed()
    {
        // Bytes after the IPv6 payload (Ethernet padding, a trailer) are not part of the message or its checksum.
        byte[] frame = [.. NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true), 0xde, 0xad, 0xbe, 0xef];

        Assert.IsTrue(NeighborFrames.TryParseNeighborSolicitation(frame, out var ns));

        Assert.AreEqual(Vip6, ns.Target);
    }

    [TestMethod]
    [Timeout(10_000, CooperativeCancellation = true)]
    public void TryParseNeighborSolicitation_OptionOfLengthZero_FalseAtOnce()
    {
        // RFC 4861 4.6: discard. PacketDotNet 1.4.8's own option parser never returns on such a frame.
        byte[] frame = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true, optionUnits: 0);

        Assert.IsFalse(NeighborFrames.TryParseNeighborSolicitation(frame, out _));
    }

    [TestMethod]
    public void TryParseNeighborSolicitation_TruncatedOrLengthPastEndOrExtensionHeader_False()
    {
        byte[] frame = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true);
        for (int length = 0; length < frame.Length; length++)
        {
            Assert.IsFalse(NeighborFrames.TryParseNeighborSolicitation(frame.AsSpan(0, length), out _), $"cut to {length} bytes");
        }

        byte[] longer = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true);
        longer[19] = 40; // payload length 40 of 32 present
        Assert.IsFalse(NeighborFrames.TryParseNeighborSolicitation(longer, out _), "payload length past the end");
        byte[] hopByHop = NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true);
        hopByHop[20] = 0;
        Assert.IsFalse(NeighborFrames.TryParseNeighborSolicitation(hopByHop, out _), "an extension header before ICMPv6");
    }

    [TestMethod]
    public void NeighborAdvertisement_Solicited_HasVmacAsTargetLinkLayerAndValidChecksum()
    {
        var vmac = VirtualMac.For(Vip6);

        byte[] frame = NeighborFrames.NeighborAdvertisement(NodeMac, vmac, Vip6, ClientMac, Client6, solicited: true);

        Assert.HasCount(86, frame);
        CollectionAssert.AreEqual(ClientMac.GetAddressBytes(), frame[0..6]);
        CollectionAssert.AreEqual(NodeMac.GetAddressBytes(), frame[6..12], "Ethernet source: the node's real MAC");
        Assert.AreEqual(0x86dd, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
        Assert.AreEqual(255, frame[14 + 7], "hop limit 255 (RFC 4861 7.1.2)");
        CollectionAssert.AreEqual(Vip6.GetAddressBytes(), frame[22..38], "IPv6 source: the VIP");
        CollectionAssert.AreEqual(Client6.GetAddressBytes(), frame[38..54]);
        var icmp = frame.AsSpan(54, 32);
        Assert.AreEqual(136, icmp[0]);
        Assert.AreEqual(0x60, icmp[4], "solicited + override, not router");
        CollectionAssert.AreEqual(Vip6.GetAddressBytes(), icmp.Slice(8, 16).ToArray());
        Assert.AreEqual(2, icmp[24], "target link-layer address option");
        Assert.AreEqual(1, icmp[25]);
        CollectionAssert.AreEqual(vmac.GetAddressBytes(), icmp.Slice(26, 6).ToArray());
        Assert.AreEqual(0, NeighborFrames.Icmpv6Checksum(frame.AsSpan(22, 16), frame.AsSpan(38, 16), icmp), "checksum verifies");
    }

    [TestMethod]
    public void NeighborAdvertisement_Unsolicited_PacketDotNetReadsOverrideTargetAndOptionWithValidChecksum()
    {
        var vmac = VirtualMac.For(Vip6);
        var allNodesMac = NeighborFrames.MulticastMac(NeighborFrames.AllNodes);

        byte[] frame = NeighborFrames.NeighborAdvertisement(NodeMac, vmac, Vip6, allNodesMac, NeighborFrames.AllNodes, solicited: false);

        // An independent reading of the frame: PacketDotNet's parser and checksum.
        var packet = Packet.ParsePacket(LinkLayers.Ethernet, frame);
        var ip = packet.Extract<IPv6Packet>();
        var icmp = packet.Extract<IcmpV6Packet>();
        var na = packet.Extract<NdpNeighborAdvertisementPacket>();
        Assert.AreEqual(NeighborFrames.AllNodes, ip.DestinationAddress);
        Assert.AreEqual(255, ip.HopLimit);
        Assert.IsTrue(icmp.ValidIcmpChecksum);
        Assert.AreEqual(Vip6, na.TargetAddress);
        Assert.IsFalse(na.Solicited);
        Assert.IsTrue(na.Override);
        Assert.IsFalse(na.Router);
        var option = na.OptionsCollection.OfType<PacketDotNet.Ndp.NdpLinkLayerAddressOption>().Single();
        Assert.AreEqual(PacketDotNet.Ndp.OptionTypes.TargetLinkLayerAddress, option.Type);
        Assert.AreEqual(vmac, option.LinkLayerAddress);
    }

    [TestMethod]
    public void Icmpv6Checksum_KnownEchoRequest_MatchesReferenceValue()
    {
        // Echo request fe80::1 -> fe80::2, id 0x1234, seq 1, payload "abc"; reference computed by hand from RFC 1071:
        // pseudo header words + 0x8000 + 0x1234 + 0x0001 + 0x6162 + 0x6300, length 11, next header 58.
        byte[] src = IPAddress.Parse("fe80::1").GetAddressBytes();
        byte[] dst = IPAddress.Parse("fe80::2").GetAddressBytes();
        byte[] message = [0x80, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, (byte)'a', (byte)'b', (byte)'c'];
        uint sum = 0xfe80 + 0x0001 + 0xfe80 + 0x0002 + 11 + 58 + 0x8000 + 0x1234 + 0x0001 + 0x6162 + 0x6300;
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        Assert.AreEqual((ushort)~sum, NeighborFrames.Icmpv6Checksum(src, dst, message));
    }

    [TestMethod]
    public void SolicitedNodeGroup_Vip_IsFf02_1_FfAndLastThreeBytes()
    {
        Assert.AreEqual(IPAddress.Parse("ff02::1:ff00:100"), NeighborFrames.SolicitedNodeGroup(Vip6));
        Assert.AreEqual(PhysicalAddress.Parse("33-33-FF-00-01-00"), NeighborFrames.MulticastMac(NeighborFrames.SolicitedNodeGroup(Vip6)));
    }

    /// <summary>An ARP request as a Linux host sends it.</summary>
    internal static byte[] ArpRequestFrame(PhysicalAddress sender, IPAddress senderAddress, IPAddress target)
    {
        byte[] frame = new byte[42];
        frame.AsSpan(0, 6).Fill(0xff);
        sender.GetAddressBytes().CopyTo(frame, 6);
        frame[12] = 0x08; frame[13] = 0x06;
        frame[14] = 0; frame[15] = 1; frame[16] = 0x08; frame[17] = 0; frame[18] = 6; frame[19] = 4; frame[20] = 0; frame[21] = 1;
        sender.GetAddressBytes().CopyTo(frame, 22);
        senderAddress.GetAddressBytes().CopyTo(frame, 28);
        target.GetAddressBytes().CopyTo(frame, 38);
        return frame;
    }

    /// <summary>
    /// A neighbor solicitation to the target's solicited-node group, built independently of the code under test; the
    /// source link-layer option (when present) claims <paramref name="optionUnits"/> units of 8 bytes.
    /// </summary>
    internal static byte[] NeighborSolicitationFrame(PhysicalAddress sender, IPAddress source, IPAddress target, bool withOption, byte optionUnits = 1)
    {
        int icmpLength = withOption ? 32 : 24;
        byte[] frame = new byte[14 + 40 + icmpLength];
        byte[] t = target.GetAddressBytes();
        byte[] group = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, t[13], t[14], t[15]];
        byte[] dstMac = [0x33, 0x33, 0xff, t[13], t[14], t[15]];
        dstMac.CopyTo(frame, 0);
        sender.GetAddressBytes().CopyTo(frame, 6);
        frame[12] = 0x86; frame[13] = 0xdd;
        frame[14] = 0x60;
        frame[18] = 0; frame[19] = (byte)icmpLength;
        frame[20] = 58; frame[21] = 255;
        source.GetAddressBytes().CopyTo(frame, 22);
        group.CopyTo(frame, 38);
        int i = 54;
        frame[i] = 135;
        t.CopyTo(frame, i + 8);
        if (withOption)
        {
            frame[i + 24] = 1; frame[i + 25] = optionUnits;
            sender.GetAddressBytes().CopyTo(frame, i + 26);
        }

        // Reference checksum (RFC 1071) computed here, not with the code under test.
        uint sum = 0;
        foreach (var part in new[] { frame.AsSpan(22, 16).ToArray(), group, frame.AsSpan(i, icmpLength).ToArray() })
        {
            for (int k = 0; k < part.Length; k += 2)
            {
                sum += (uint)(part[k] << 8 | part[k + 1]);
            }
        }

        sum += (uint)icmpLength + 58;
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        ushort checksum = (ushort)~sum;
        frame[i + 2] = (byte)(checksum >> 8);
        frame[i + 3] = (byte)checksum;
        return frame;
    }
}
