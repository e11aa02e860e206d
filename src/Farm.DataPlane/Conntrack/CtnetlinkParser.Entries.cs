using System.Buffers.Binary;
using System.Net;
using Farm.Core.Config;

namespace Farm.DataPlane.Conntrack;

/// <summary>One conntrack entry: its tuple, TCP state and status, and whether the flow is live.</summary>
internal static partial class CtnetlinkParser
{
    private static bool IsEntry(ushort type) => type >> 8 == NfnlSubsysCtnetlink && (type & 0xff) is IpctnlMsgCtNew or IpctnlMsgCtGet;

    /// <summary><see cref="ParseEntry"/>, with the message's place in its datagram in any error.</summary>
    private static TrackedFlow? ParseEntryAt(ReadOnlySpan<byte> message, int start)
    {
        try
        {
            return ParseEntry(message);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Conntrack entry at byte {start} of the datagram: {e.Message}", e);
        }
    }

    /// <summary>The (negative errno or zero) code of an NLMSG_ERROR message.</summary>
    internal static int ErrorCode(ReadOnlySpan<byte> message, int start) =>
        message.Length >= HeaderLength + 4
            ? Read<int>(message[HeaderLength..])
            : throw new InvalidDataException($"Netlink error message at byte {start} is {message.Length} bytes, too short for its error code.");

    /// <summary>One conntrack entry message (header included); null for protocols other than TCP and UDP.</summary>
    internal static TrackedFlow? ParseEntry(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderLength + NfGenMsgLength)
        {
            throw new InvalidDataException($"the message is {message.Length} bytes, shorter than its headers ({HeaderLength + NfGenMsgLength}).");
        }

        var entry = new EntryFields();
        var attributes = new AttributeReader(message[(HeaderLength + NfGenMsgLength)..]);
        while (attributes.Next(out ushort type, out var payload))
        {
            switch (type)
            {
                case CtaTupleOrig:
                    ParseTuple(payload, ref entry);
                    break;
                case CtaProtoinfo:
                    ParseProtoinfo(payload, ref entry);
                    break;
                case CtaStatus:
                    entry.Status = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ReadFixed(payload, 4, "CTA_STATUS"));
                    break;
            }
        }

        TransportProtocol protocol;
        switch (entry.Protocol)
        {
            case IpProtoTcp: protocol = TransportProtocol.Tcp; break;
            case IpProtoUdp: protocol = TransportProtocol.Udp; break;
            case -1: throw new InvalidDataException("it has no CTA_TUPLE_ORIG/CTA_TUPLE_PROTO/CTA_PROTO_NUM.");
            default: return null;
        }

        string name = protocol == TransportProtocol.Tcp ? "TCP" : "UDP";
        if (entry.Source is null || entry.Destination is null)
        {
            throw new InvalidDataException($"the {name} entry lacks its original source or destination address.");
        }

        if (entry.SourcePort < 0 || entry.DestinationPort < 0)
        {
            throw new InvalidDataException($"the {name} entry lacks its original source or destination port.");
        }

        return new TrackedFlow(protocol, entry.Source, entry.SourcePort, entry.Destination, entry.DestinationPort, IsLive(protocol, entry.TcpState, entry.Status));
    }

    /// <summary>
    /// Whether a tracked connection still counts for a drain. A TCP entry without a state attribute is taken as live:
    /// waiting longer is safe, cutting a connection is not. A client's SYN this node never answered (SYN_SENT without
    /// IPS_SEEN_REPLY; a status that was not reported counts as answered) is not a connection this node serves: a
    /// retransmission of it is a new flow for the bucket's new owner, so it must not hold the drain until its timeout.
    /// </summary>
    internal static bool IsLive(TransportProtocol protocol, int tcpState, uint? status = null) =>
        protocol == TransportProtocol.Udp
        || (tcpState is not (TcpConntrackNone or TcpConntrackTimeWait or TcpConntrackClose)
            && !(tcpState == TcpConntrackSynSent && status is { } st && (st & IpsSeenReply) == 0));

    private static void ParseTuple(ReadOnlySpan<byte> tuple, ref EntryFields entry)
    {
        var attributes = new AttributeReader(tuple);
        while (attributes.Next(out ushort type, out var payload))
        {
            if (type == CtaTupleIp)
            {
                var addresses = new AttributeReader(payload);
                while (addresses.Next(out ushort ipType, out var address))
                {
                    switch (ipType)
                    {
                        case CtaIpV4Src: entry.Source = ReadAddress(address, 4, "CTA_IP_V4_SRC"); break;
                        case CtaIpV4Dst: entry.Destination = ReadAddress(address, 4, "CTA_IP_V4_DST"); break;
                        case CtaIpV6Src: entry.Source = ReadAddress(address, 16, "CTA_IP_V6_SRC"); break;
                        case CtaIpV6Dst: entry.Destination = ReadAddress(address, 16, "CTA_IP_V6_DST"); break;
                    }
                }
            }
            else if (type == CtaTupleProto)
            {
                var fields = new AttributeReader(payload);
                while (fields.Next(out ushort protoType, out var value))
                {
                    switch (protoType)
                    {
                        case CtaProtoNum: entry.Protocol = ReadFixed(value, 1, "CTA_PROTO_NUM")[0]; break;
                        case CtaProtoSrcPort: entry.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(ReadFixed(value, 2, "CTA_PROTO_SRC_PORT")); break;
                        case CtaProtoDstPort: entry.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(ReadFixed(value, 2, "CTA_PROTO_DST_PORT")); break;
                    }
                }
            }
        }
    }

    private static void ParseProtoinfo(ReadOnlySpan<byte> protoinfo, ref EntryFields entry)
    {
        var attributes = new AttributeReader(protoinfo);
        while (attributes.Next(out ushort type, out var payload))
        {
            if (type != CtaProtoinfoTcp)
            {
                continue;
            }

            var tcp = new AttributeReader(payload);
            while (tcp.Next(out ushort tcpType, out var value))
            {
                if (tcpType == CtaProtoinfoTcpState)
                {
                    entry.TcpState = ReadFixed(value, 1, "CTA_PROTOINFO_TCP_STATE")[0];
                }
            }
        }
    }

    private static IPAddress ReadAddress(ReadOnlySpan<byte> payload, int length, string name) => new(ReadFixed(payload, length, name));

    private static ReadOnlySpan<byte> ReadFixed(ReadOnlySpan<byte> payload, int length, string name) =>
        payload.Length == length
            ? payload
            : throw new InvalidDataException($"{name} has {payload.Length} bytes instead of {length}.");
}
