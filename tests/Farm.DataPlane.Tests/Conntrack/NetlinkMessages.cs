using System.Text;

namespace Farm.DataPlane.Tests.Conntrack;

/// <summary>
/// Builds ctnetlink reply datagrams by hand, from the uapi layouts (little-endian host order for netlink headers,
/// network order for addresses and ports), independently of the parser under test.
/// </summary>
internal static class NetlinkMessages
{
    public const ushort NestedFlag = 0x8000;
    public const ushort CtNewType = (1 << 8) | 0;
    public const ushort CtGetType = (1 << 8) | 1;
    public const ushort Multi = 0x02;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Icmp = 1;

    /// <summary>TCP conntrack states (CTA_PROTOINFO_TCP_STATE).</summary>
    public const byte Established = 3;
    public const byte TimeWait = 7;

    /// <summary>An attribute: u16 length (header included, padding excluded), u16 type, payload, zero padding to 4.</summary>
    public static byte[] Attr(ushort type, params byte[] payload)
    {
        byte[] attribute = new byte[(4 + payload.Length + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(attribute, (ushort)(4 + payload.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(attribute.AsSpan(2), type);
        payload.CopyTo(attribute, 4);
        return attribute;
    }

    /// <summary>A nested attribute with NLA_F_NESTED set (as kernels since 5.2 send), unless <paramref name="flag"/> is false.</summary>
    public static byte[] Nest(ushort type, bool flag, params byte[][] children) =>
        Attr((ushort)(type | (flag ? NestedFlag : 0)), Concat(children));

    public static byte[] Nest(ushort type, params byte[][] children) => Nest(type, true, children);

    public static byte[] BigEndian16(int value)
    {
        byte[] bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }

    public static byte[] BigEndian32(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>A netlink message: nlmsghdr (len, type, flags, seq, pid) + body.</summary>
    public static byte[] Message(ushort type, ushort flags, uint sequence, byte[] body)
    {
        byte[] message = new byte[16 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(12), 4242);
        body.CopyTo(message, 16);
        return message;
    }

    /// <summary>nfgenmsg: family, version 0, res_id 0 (big-endian).</summary>
    public static byte[] NfGenMsg(AddressFamily family) => [family == AddressFamily.InterNetworkV6 ? (byte)10 : (byte)2, 0, 0, 0];

    /// <summary>CTA_TUPLE_ORIG or CTA_TUPLE_REPLY: CTA_TUPLE_IP {src, dst} + CTA_TUPLE_PROTO {num, sport, dport}.</summary>
    public static byte[] Tuple(ushort type, IPAddress source, int sourcePort, IPAddress destination, int destinationPort, byte protocol, bool nestedFlag = true)
    {
        bool v6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        return Nest(
            type,
            nestedFlag,
            Nest(1, nestedFlag, Attr(v6 ? (ushort)3 : (ushort)1, source.GetAddressBytes()), Attr(v6 ? (ushort)4 : (ushort)2, destination.GetAddressBytes())),
            Nest(2, nestedFlag, Attr(1, protocol), Attr(2, BigEndian16(sourcePort)), Attr(3, BigEndian16(destinationPort))));
    }

    /// <summary>
    /// A conntrack entry as the kernel dumps it: original and reply tuples, status, timeout, mark, TCP protoinfo
    /// (state, window scales, flags) when <paramref name="tcpState"/> is set, use count and id.
    /// </summary>
    public static byte[] Entry(
        uint sequence,
        byte protocol,
        IPAddress source,
        int sourcePort,
        IPAddress destination,
        int destinationPort,
        byte? tcpState = null,
        ushort type = CtNewType,
        bool nestedFlag = true,
        uint status = 0x18e)
    {
        var attributes = new List<byte[]>
        {
            Tuple(1, source, sourcePort, destination, destinationPort, protocol, nestedFlag),
            Tuple(2, destination, destinationPort, source, sourcePort, protocol, nestedFlag),
            Attr(3, BigEndian32(status)),  // CTA_STATUS (default: SEEN_REPLY, ASSURED, CONFIRMED, ...)
            Attr(7, BigEndian32(431999)),  // CTA_TIMEOUT
            Attr(8, BigEndian32(0)),       // CTA_MARK
        };
        if (tcpState is { } state)
        {
            attributes.Add(Nest(4, nestedFlag, Nest(1, nestedFlag, Attr(1, state), Attr(2, 7), Attr(3, 7), Attr(4, 0x23, 0), Attr(5, 0x23, 0))));
        }

        attributes.Add(Attr(11, BigEndian32(1)));          // CTA_USE
        attributes.Add(Attr(12, BigEndian32(0xdeadbeef))); // CTA_ID
        return Message(type, Multi, sequence, Concat([NfGenMsg(source.AddressFamily), .. attributes]));
    }

    /// <summary>NLMSG_DONE with its int status.</summary>
    public static byte[] Done(uint sequence, int status = 0)
    {
        byte[] body = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(body, status);
        return Message(3, Multi, sequence, body);
    }

    /// <summary>NLMSG_ERROR with a negative errno, the request's header (capped) and optionally an NLMSGERR_ATTR_MSG.</summary>
    public static byte[] Error(uint sequence, int errno, string? kernelMessage = null)
    {
        byte[] code = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(code, -errno);
        byte[] request = Message(CtGetType, 0x301, sequence, []);
        byte[] tlvs = kernelMessage is null ? [] : Attr(1, [.. Encoding.UTF8.GetBytes(kernelMessage), 0]);
        ushort flags = (ushort)(0x100 | (kernelMessage is null ? 0 : 0x200)); // NLM_F_CAPPED | NLM_F_ACK_TLVS
        return Message(2, flags, sequence, Concat(code, request.AsSpan(0, 16).ToArray(), tlvs));
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>The netlink messages of a datagram, split by their nlmsg_len (aligned to 4).</summary>
    public static List<byte[]> Messages(byte[] datagram)
    {
        var messages = new List<byte[]>();
        for (int offset = 0; offset < datagram.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(offset));
            messages.Add(datagram[offset..(offset + length)]);
            offset += (length + 3) & ~3;
        }

        return messages;
    }

    /// <summary>The nlmsg_seq of a message.</summary>
    public static uint SequenceOf(byte[] message) => BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(8));
}
