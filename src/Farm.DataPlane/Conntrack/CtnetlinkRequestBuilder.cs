using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Farm.Core.Config;

namespace Farm.DataPlane.Conntrack;

/// <summary>
/// Writes ctnetlink lookup or delete requests back to back into one datagram buffer, so a batch costs one send. Pure;
/// <see cref="NetlinkConntrackTable"/> sends what it wrote and <see cref="CtnetlinkParser.ParseLookupReplies"/> reads
/// the answers.
/// </summary>
/// <remarks>
/// One request asks for the entry of one original tuple: nlmsghdr {len, type (NFNL_SUBSYS_CTNETLINK &lt;&lt; 8) |
/// IPCTNL_MSG_CT_GET, flags NLM_F_REQUEST (no NLM_F_DUMP, no NLM_F_ACK), seq, pid 0}, nfgenmsg {family AF_INET or
/// AF_INET6, version 0, res_id 0}, then CTA_TUPLE_ORIG { CTA_TUPLE_IP { CTA_IP_V4_SRC, CTA_IP_V4_DST (or V6) },
/// CTA_TUPLE_PROTO { CTA_PROTO_NUM u8, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT } }, the nests flagged NLA_F_NESTED.
/// Headers are in host order, addresses and ports in network order; each attribute is padded to 4 bytes with zeros
/// and a nest's length covers its children's padding (as the kernel's nla_nest_end counts it). The kernel answers each
/// request on its own, with the entry under the request's sequence number or with NLMSG_ERROR -ENOENT. A delete is the
/// same message with type IPCTNL_MSG_CT_DELETE and flags NLM_F_REQUEST | NLM_F_ACK: the kernel deletes the entry of
/// that tuple (found in either direction) and answers NLMSG_ERROR 0, or -ENOENT when it holds none.
/// </remarks>
internal ref struct CtnetlinkRequestBuilder
{
    /// <summary>Bytes of one IPv4 lookup: 16 + 4 + CTA_TUPLE_ORIG (4 + CTA_TUPLE_IP 20 + CTA_TUPLE_PROTO 28).</summary>
    public const int Ipv4LookupLength = 72;

    /// <summary>Bytes of one IPv6 lookup: 16 + 4 + CTA_TUPLE_ORIG (4 + CTA_TUPLE_IP 44 + CTA_TUPLE_PROTO 28).</summary>
    public const int Ipv6LookupLength = 96;

    /// <summary>The nlmsg_flags of a lookup: NLM_F_REQUEST alone.</summary>
    public const ushort LookupFlags = CtnetlinkParser.NlmFRequest;

    /// <summary>The nlmsg_flags of a delete: NLM_F_REQUEST | NLM_F_ACK (the kernel answers a success with an acknowledgement).</summary>
    public const ushort DeleteFlags = CtnetlinkParser.NlmFRequest | CtnetlinkParser.NlmFAck;

    private const byte AfInet = 2;
    private const byte AfInet6 = 10;

    private readonly Span<byte> buffer;
    private int length;

    /// <summary>Writes into <paramref name="buffer"/> from its start.</summary>
    public CtnetlinkRequestBuilder(Span<byte> buffer) => this.buffer = buffer;

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => length;

    /// <summary>The datagram written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => buffer[..length];

    /// <summary>How many bytes the lookup of <paramref name="flow"/> takes: <see cref="Ipv4LookupLength"/> or <see cref="Ipv6LookupLength"/>.</summary>
    /// <exception cref="ArgumentException">The flow cannot be looked up (see <see cref="ThrowIfNotLookupable"/>).</exception>
    public static int LookupLength(TrackedFlow flow)
    {
        ThrowIfNotLookupable(flow, nameof(flow));
        return Normalize(flow.Source).AddressFamily == AddressFamily.InterNetwork ? Ipv4LookupLength : Ipv6LookupLength;
    }

    /// <summary>
    /// Throws unless <paramref name="flow"/> names a tuple ctnetlink can look up: TCP or UDP, both addresses present
    /// and of one family (an IPv4-mapped IPv6 address counts as IPv4, as the kernel sees it), ports within 0-65535.
    /// </summary>
    /// <exception cref="ArgumentException">It does not; the message names the flow and <paramref name="what"/>.</exception>
    public static void ThrowIfNotLookupable(TrackedFlow flow, string what)
    {
        string? problem =
            flow.Protocol is not (TransportProtocol.Tcp or TransportProtocol.Udp) ? $"protocol {flow.Protocol} is neither TCP nor UDP"
            : flow.Source is null || flow.Destination is null ? "an address is missing"
            : flow.SourcePort is < 0 or > ushort.MaxValue || flow.DestinationPort is < 0 or > ushort.MaxValue ? "a port lies outside 0-65535"
            : Normalize(flow.Source).AddressFamily != Normalize(flow.Destination).AddressFamily ? "its addresses are of different families"
            : Normalize(flow.Source).AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ? "its addresses are neither IPv4 nor IPv6"
            : null;
        if (problem is not null)
        {
            throw new ArgumentException($"{what} ({flow}) cannot be looked up: {problem}.", nameof(flow));
        }
    }

    /// <summary>
    /// Appends the lookup of <paramref name="flow"/>'s original tuple under <paramref name="sequence"/> (its
    /// <see cref="TrackedFlow.Live"/> plays no part). False, with nothing written, when the buffer has no room for it.
    /// </summary>
    /// <exception cref="ArgumentException">The flow cannot be looked up (see <see cref="ThrowIfNotLookupable"/>).</exception>
    public bool TryAddLookup(TrackedFlow flow, uint sequence) =>
        TryAdd(flow, sequence, CtnetlinkParser.GetRequestType, LookupFlags);

    /// <summary>
    /// Appends the deletion of the entry with <paramref name="flow"/>'s original tuple under <paramref name="sequence"/>
    /// (as <see cref="TryAddLookup"/>; the same length). False, with nothing written, when the buffer has no room for it.
    /// </summary>
    /// <exception cref="ArgumentException">The flow cannot be looked up (see <see cref="ThrowIfNotLookupable"/>).</exception>
    public bool TryAddDelete(TrackedFlow flow, uint sequence) =>
        TryAdd(flow, sequence, CtnetlinkParser.DeleteRequestType, DeleteFlags);

    private bool TryAdd(TrackedFlow flow, uint sequence, ushort type, ushort flags)
    {
        int needed = LookupLength(flow);
        if (buffer.Length - length < needed)
        {
            return false;
        }

        int start = length;
        buffer.Slice(start, needed).Clear();
        var source = Normalize(flow.Source);
        var destination = Normalize(flow.Destination);
        bool v6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        length += CtnetlinkParser.HeaderLength;
        buffer[length] = v6 ? AfInet6 : AfInet; // nfgenmsg: family; version NFNETLINK_V0 and res_id stay 0
        length += CtnetlinkParser.NfGenMsgLength;

        int tuple = BeginNest(CtnetlinkParser.CtaTupleOrig);
        int ip = BeginNest(CtnetlinkParser.CtaTupleIp);
        PutAddress(v6 ? CtnetlinkParser.CtaIpV6Src : CtnetlinkParser.CtaIpV4Src, source);
        PutAddress(v6 ? CtnetlinkParser.CtaIpV6Dst : CtnetlinkParser.CtaIpV4Dst, destination);
        EndNest(ip);
        int proto = BeginNest(CtnetlinkParser.CtaTupleProto);
        Put(CtnetlinkParser.CtaProtoNum, [flow.Protocol == TransportProtocol.Tcp ? CtnetlinkParser.IpProtoTcp : CtnetlinkParser.IpProtoUdp]);
        PutBigEndian16(CtnetlinkParser.CtaProtoSrcPort, (ushort)flow.SourcePort);
        PutBigEndian16(CtnetlinkParser.CtaProtoDstPort, (ushort)flow.DestinationPort);
        EndNest(proto);
        EndNest(tuple);

        CtnetlinkParser.WriteHeader(buffer[start..], length - start, type, flags, sequence);
        return true;
    }

    // The kernel sees an IPv4 client as IPv4, never as ::ffff:a.b.c.d (DrainScanner normalizes the same way).
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private int BeginNest(ushort type)
    {
        int start = length;
        MemoryMarshal.Write(buffer[(start + 2)..], (ushort)(type | CtnetlinkParser.NlaFNested));
        length += 4;
        return start;
    }

    private readonly void EndNest(int start) => MemoryMarshal.Write(buffer[start..], (ushort)(length - start));

    private void PutAddress(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        Put(type, bytes[..written]);
    }

    private void PutBigEndian16(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        Put(type, bytes);
    }

    /// <summary>struct nlattr {u16 len (header + payload, padding excluded), u16 type}, the payload, zeros to 4.</summary>
    private void Put(ushort type, scoped ReadOnlySpan<byte> payload)
    {
        MemoryMarshal.Write(buffer[length..], (ushort)(4 + payload.Length));
        MemoryMarshal.Write(buffer[(length + 2)..], type);
        payload.CopyTo(buffer[(length + 4)..]);
        length += CtnetlinkParser.Align(4 + payload.Length); // the padding was cleared with the whole request
    }
}
