using static Farm.DataPlane.Tests.Conntrack.NetlinkMessages;

namespace Farm.Fuzz.Tests.DataPlane;

/// <summary>
/// Seeds for the ctnetlink and ARP/NDP targets, written from the kernel's and the RFCs' layouts by hand (independently
/// of the parsers), kept as files under Inputs/. The netlink framing comes from the data plane tests' hand-written
/// <c>NetlinkMessages</c> (linked into this project).
/// </summary>
internal static class DataPlaneSeeds
{
    /// <summary>The nlmsg_seq of every seed datagram: the dump or first lookup the fuzz target asks about.</summary>
    public const uint Sequence = 7;

    public static IEnumerable<(string Name, byte[] Data)> Ctnetlink()
    {
        byte[] tcp4 = Entry(6, [198, 18, 1, 1], [198, 18, 0, 100], 40000, 80, tcpState: 3);
        byte[] udp6 = Entry(17, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], 5353, 53);
        byte[] icmp = Entry(1, [198, 18, 1, 2], [198, 18, 0, 100], 0, 0);
        yield return ("seed-dump-tcp4-udp6-done.bin", [.. tcp4, .. udp6, .. Done(Sequence)]);
        yield return ("seed-dump-icmp-then-error.bin", [.. icmp, .. Error(Sequence, 16, "conntrack busy")]);
        yield return ("seed-done-with-error-status.bin", Done(Sequence, -4));
        yield return ("seed-ack.bin", Error(Sequence, 0));
        yield return ("seed-lookup-enoent.bin", [.. Error(Sequence, 2), .. Entry(6, [198, 18, 1, 3], [198, 18, 0, 100], 40001, 443, tcpState: 7, sequence: Sequence + 1)]);
        yield return ("seed-overrun-noop.bin", [.. Message(4, 0, Sequence, []), .. Message(1, 0, Sequence, [])]);
    }

    public static IEnumerable<(string Name, byte[] Data)> Neighbors()
    {
        byte[] client = [0x0a, 0, 0, 0, 0, 0x99];
        yield return ("seed-arp-request.bin", ArpRequest(client, [198, 18, 1, 1], [198, 18, 0, 100]));
        yield return ("seed-arp-gratuitous.bin", ArpRequest(client, [198, 18, 0, 100], [198, 18, 0, 100]));
        byte[] source = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
        byte[] target = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
        yield return ("seed-ns-with-source-option.bin", NeighborSolicitation(client, source, target, withOption: true));
        yield return ("seed-ns-dad.bin", NeighborSolicitation(client, new byte[16], target, withOption: false));
    }

    /// <summary>Recomputes the ICMPv6 checksum of an Ethernet + IPv6 + ICMPv6 frame in place, when its lengths allow.</summary>
    public static void FixIcmpv6Checksum(byte[] frame)
    {
        if (frame.Length < 14 + 40 + 4 || BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) != 0x86dd)
        {
            return;
        }

        int payload = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 4));
        if (payload < 4 || 14 + 40 + payload > frame.Length)
        {
            return;
        }

        var icmp = frame.AsSpan(14 + 40, payload);
        icmp[2] = 0;
        icmp[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Icmpv6Checksum(frame.AsSpan(14 + 8, 16), frame.AsSpan(14 + 24, 16), icmp));
    }

    private static byte[] Entry(byte protocol, byte[] source, byte[] destination, int sourcePort, int destinationPort, byte? tcpState = null, uint sequence = Sequence)
    {
        bool v6 = source.Length == 16;
        byte[] Tuple(ushort type, byte[] from, byte[] to, int fromPort, int toPort) => Nest(
            type,
            Nest(1, Attr(v6 ? (ushort)3 : (ushort)1, from), Attr(v6 ? (ushort)4 : (ushort)2, to)),
            Nest(2, Attr(1, protocol), Attr(2, BigEndian16(fromPort)), Attr(3, BigEndian16(toPort))));
        var attributes = new List<byte[]>
        {
            Tuple(1, source, destination, sourcePort, destinationPort),
            Tuple(2, destination, source, destinationPort, sourcePort),
            Attr(3, 0, 0, 0x01, 0x8e),
            Attr(7, 0, 6, 0x97, 0x7f),
        };
        if (tcpState is { } state)
        {
            attributes.Add(Nest(4, Nest(1, Attr(1, state), Attr(2, 7), Attr(3, 7), Attr(4, 0x23, 0), Attr(5, 0x23, 0))));
        }

        attributes.Add(Attr(12, 0xde, 0xad, 0xbe, 0xef));
        return Message(CtNewType, Multi, sequence, [v6 ? (byte)10 : (byte)2, 0, 0, 0, .. attributes.SelectMany(a => a)]);
    }

    private static byte[] ArpRequest(byte[] senderMac, byte[] senderAddress, byte[] targetAddress) =>
    [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, .. senderMac, 0x08, 0x06,
        0, 1, 0x08, 0x00, 6, 4, 0, 1, .. senderMac, .. senderAddress, 0, 0, 0, 0, 0, 0, .. targetAddress,
    ];

    private static byte[] NeighborSolicitation(byte[] ethernetSource, byte[] source, byte[] target, bool withOption)
    {
        byte[] icmp = [135, 0, 0, 0, 0, 0, 0, 0, .. target, .. withOption ? (byte[])[1, 1, .. ethernetSource] : []];
        byte[] group = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15]];
        byte[] frame =
        [
            0x33, 0x33, 0xff, target[13], target[14], target[15], .. ethernetSource, 0x86, 0xdd,
            0x60, 0, 0, 0, (byte)(icmp.Length >> 8), (byte)icmp.Length, 58, 255, .. source, .. group, .. icmp,
        ];
        FixIcmpv6Checksum(frame);
        return frame;
    }

    private static ushort Icmpv6Checksum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message)
    {
        ulong sum = Words(source) + Words(destination) + (uint)message.Length + 58 + Words(message);
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;

        static ulong Words(ReadOnlySpan<byte> data)
        {
            ulong total = 0;
            for (int i = 0; i < data.Length; i += 2)
            {
                total += (ulong)((data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0));
            }

            return total;
        }
    }
}
