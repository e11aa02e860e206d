using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Farm.Core.Config;
using Farm.Native.Linux;

namespace Farm.DataPlane.Conntrack;

/// <summary>
/// Pure codec of ctnetlink reads: writes the dump request and turns the replies of dumps and lookups into
/// <see cref="TrackedFlow"/>s (lookup requests: <see cref="CtnetlinkRequestBuilder"/>). No I/O;
/// <see cref="NetlinkConntrackTable"/> moves the bytes.
/// </summary>
/// <remarks>
/// Numbers are from the kernel's uapi headers: linux/netlink.h (message header, flags, NLMSG_*),
/// linux/netfilter/nfnetlink.h (nfgenmsg, NFNL_SUBSYS_CTNETLINK), linux/netfilter/nfnetlink_conntrack.h (CTA_*),
/// linux/netfilter/nf_conntrack_tcp.h (TCP_CONNTRACK_*). Netlink headers and attribute headers are in host byte order
/// (Farm runs on little-endian machines only, see <c>KernelJhash</c>); addresses and ports are in network byte order.
/// Messages and attributes are aligned to 4 bytes. Attribute types carry NLA_F_NESTED / NLA_F_NET_BYTEORDER in their
/// top bits, masked off here. Unknown attributes are skipped, so newer kernels that add some are still read.
/// </remarks>
internal static partial class CtnetlinkParser
{
    /// <summary>Length of the dump request: nlmsghdr (16) + nfgenmsg (4).</summary>
    public const int DumpRequestLength = HeaderLength + NfGenMsgLength;

    internal const int HeaderLength = 16;
    internal const int NfGenMsgLength = 4;

    // linux/netlink.h
    internal const ushort NlmsgNoop = 1;
    internal const ushort NlmsgError = 2;
    internal const ushort NlmsgDone = 3;
    internal const ushort NlmsgOverrun = 4;
    internal const ushort NlmFRequest = 0x01;
    internal const ushort NlmFMulti = 0x02;
    internal const ushort NlmFAck = 0x04;
    internal const ushort NlmFDumpIntr = 0x10;
    internal const ushort NlmFDump = 0x300;
    internal const ushort NlmFCapped = 0x100;
    internal const ushort NlmFAckTlvs = 0x200;
    internal const ushort NlaTypeMask = 0x3fff;
    internal const ushort NlaFNested = 0x8000;
    internal const ushort NlmsgerrAttrMsg = 1;

    // linux/netfilter/nfnetlink.h, nfnetlink_conntrack.h
    internal const int NfnlSubsysCtnetlink = 1;
    internal const int IpctnlMsgCtNew = 0;
    internal const int IpctnlMsgCtGet = 1;
    internal const int IpctnlMsgCtDelete = 2;
    internal const ushort CtaTupleOrig = 1;
    internal const ushort CtaStatus = 3;
    internal const ushort CtaProtoinfo = 4;
    internal const ushort CtaTupleIp = 1;
    internal const ushort CtaTupleProto = 2;
    internal const ushort CtaIpV4Src = 1;
    internal const ushort CtaIpV4Dst = 2;
    internal const ushort CtaIpV6Src = 3;
    internal const ushort CtaIpV6Dst = 4;
    internal const ushort CtaProtoNum = 1;
    internal const ushort CtaProtoSrcPort = 2;
    internal const ushort CtaProtoDstPort = 3;
    internal const ushort CtaProtoinfoTcp = 1;
    internal const ushort CtaProtoinfoTcpState = 1;

    // linux/netfilter/nf_conntrack_tcp.h: the states in which a TCP connection is over.
    internal const byte TcpConntrackNone = 0;
    internal const byte TcpConntrackSynSent = 1;
    internal const byte TcpConntrackTimeWait = 7;
    internal const byte TcpConntrackClose = 8;

    // linux/netfilter/nf_conntrack_common.h: IPS_SEEN_REPLY, packets have gone both ways.
    internal const uint IpsSeenReply = 1 << 1;

    internal const byte IpProtoTcp = 6;
    internal const byte IpProtoUdp = 17;

    // linux/errno.h: the answer to a lookup of a tuple the table does not hold.
    internal const int ENoEnt = 2;

    /// <summary>The nlmsg_type of dump and lookup requests: (NFNL_SUBSYS_CTNETLINK &lt;&lt; 8) | IPCTNL_MSG_CT_GET.</summary>
    public const ushort GetRequestType = (NfnlSubsysCtnetlink << 8) | IpctnlMsgCtGet;

    /// <summary>The nlmsg_type of delete requests: (NFNL_SUBSYS_CTNETLINK &lt;&lt; 8) | IPCTNL_MSG_CT_DELETE.</summary>
    public const ushort DeleteRequestType = (NfnlSubsysCtnetlink << 8) | IpctnlMsgCtDelete;

    /// <summary>
    /// Writes a request to dump the whole table (NLM_F_REQUEST | NLM_F_DUMP, family AF_UNSPEC: IPv4 and IPv6) with
    /// <paramref name="sequence"/>; returns its length, <see cref="DumpRequestLength"/>.
    /// </summary>
    public static int WriteDumpRequest(Span<byte> destination, uint sequence)
    {
        if (destination.Length < DumpRequestLength)
        {
            throw new ArgumentException($"The request needs {DumpRequestLength} bytes.", nameof(destination));
        }

        var request = destination[..DumpRequestLength];
        request.Clear();
        WriteHeader(request, DumpRequestLength, GetRequestType, NlmFRequest | NlmFDump, sequence);
        // nfgenmsg: family AF_UNSPEC (0), version NFNETLINK_V0 (0), res_id 0: all zero.
        return DumpRequestLength;
    }

    /// <summary>
    /// Reads one reply datagram of the dump sent with <paramref name="sequence"/> and appends its TCP/UDP entries to
    /// <paramref name="flows"/>. Messages of other sequence numbers (late replies of an abandoned dump) are ignored;
    /// so is everything after NLMSG_DONE.
    /// </summary>
    /// <exception cref="NetlinkException">The kernel answered with an error (NLMSG_ERROR, or NLMSG_DONE carrying one); <see cref="NetlinkException.Errno"/> holds it.</exception>
    /// <exception cref="InvalidDataException">The datagram is malformed: a message or attribute runs past its end, or a TCP/UDP entry lacks its addresses or ports.</exception>
    public static CtnetlinkProgress Parse(ReadOnlySpan<byte> datagram, uint sequence, ICollection<TrackedFlow> flows)
    {
        ArgumentNullException.ThrowIfNull(flows);
        bool interrupted = false;
        var messages = new MessageReader(datagram);
        while (messages.Next(out var message))
        {
            ushort type = Read<ushort>(message[4..]);
            ushort flags = Read<ushort>(message[6..]);
            if (Read<uint>(message[8..]) != sequence)
            {
                continue;
            }

            interrupted |= (flags & NlmFDumpIntr) != 0;
            switch (type)
            {
                case NlmsgNoop:
                    continue;
                case NlmsgOverrun:
                    interrupted = true;
                    continue;
                case NlmsgDone:
                    // Since 4.x the DONE payload is the dump's final status; a negative one means it failed midway.
                    int status = message.Length >= HeaderLength + 4 ? Read<int>(message[HeaderLength..]) : 0;
                    if (status < 0)
                    {
                        throw KernelError("dump", -status, null);
                    }

                    return new CtnetlinkProgress(Done: true, interrupted);
                case NlmsgError:
                    int error = ErrorCode(message, messages.Start);
                    if (error == 0)
                    {
                        return new CtnetlinkProgress(Done: true, interrupted); // an acknowledgement: nothing more follows
                    }

                    throw KernelError("dump", -error, ExtendedAckMessage(message, flags));
                default:
                    if (IsEntry(type) && ParseEntryAt(message, messages.Start) is { } flow)
                    {
                        flows.Add(flow);
                    }

                    continue;
            }
        }

        return new CtnetlinkProgress(Done: false, interrupted);
    }

    /// <summary>
    /// Reads one reply datagram of a batch of lookups whose requests carried the sequence numbers
    /// <paramref name="firstSequence"/> to <paramref name="firstSequence"/> + <c>results.Length</c> - 1, in that order,
    /// and records the answers it holds: for lookup <c>i</c>, the entry (or null for NLMSG_ERROR -ENOENT: the table no
    /// longer has it) in <c>results[i]</c>, and <c>answered[i]</c> set. Messages of other sequence numbers (an earlier
    /// batch or dump) and second answers to one lookup are ignored. Returns how many lookups it answered.
    /// <paramref name="deletes"/>: the requests were deletes, answered by an acknowledgement (NLMSG_ERROR 0: deleted),
    /// recorded as <c>default(TrackedFlow)</c> (the caller knows which flow it asked to delete), or -ENOENT (null).
    /// </summary>
    /// <exception cref="NetlinkException">The kernel answered a request with an error other than ENOENT (EPERM, EINVAL, ENOBUFS...); <see cref="NetlinkException.Errno"/> holds it.</exception>
    /// <exception cref="InvalidDataException">The datagram is malformed, or acknowledges a lookup without answering it, or answers a delete with an entry.</exception>
    public static int ParseLookupReplies(ReadOnlySpan<byte> datagram, uint firstSequence, Span<TrackedFlow?> results, Span<bool> answered, bool deletes = false)
    {
        if (answered.Length != results.Length)
        {
            throw new ArgumentException($"{nameof(answered)} has {answered.Length} places, {nameof(results)} {results.Length}.", nameof(answered));
        }

        int count = 0;
        var messages = new MessageReader(datagram);
        while (messages.Next(out var message))
        {
            // Unsigned: a sequence number before firstSequence wraps to a large index and is ignored too.
            uint index = Read<uint>(message[8..]) - firstSequence;
            if (index >= (uint)results.Length || answered[(int)index])
            {
                continue;
            }

            ushort type = Read<ushort>(message[4..]);
            TrackedFlow? flow;
            if (type == NlmsgError)
            {
                int error = ErrorCode(message, messages.Start);
                if (error == 0 && !deletes)
                {
                    throw new InvalidDataException($"The kernel acknowledged conntrack lookup {firstSequence + index} (message at byte {messages.Start}) without answering it.");
                }

                if (error != 0 && -error != ENoEnt)
                {
                    throw KernelError(deletes ? "delete" : "lookup", -error, ExtendedAckMessage(message, Read<ushort>(message[6..])));
                }

                flow = error == 0 ? default(TrackedFlow) : null;
            }
            else if (IsEntry(type))
            {
                if (deletes)
                {
                    throw new InvalidDataException($"The kernel answered conntrack delete {firstSequence + index} (message at byte {messages.Start}) with an entry.");
                }

                flow = ParseEntryAt(message, messages.Start);
            }
            else
            {
                continue; // NOOP, DONE, OVERRUN: no answer
            }

            results[(int)index] = flow;
            answered[(int)index] = true;
            count++;
        }

        return count;
    }

    /// <summary>
    /// True when <paramref name="datagram"/> holds the end (NLMSG_DONE or NLMSG_ERROR) of the dump sent with
    /// <paramref name="sequence"/>, or when its framing is broken so nothing more can be learned from it. Entries are
    /// not looked at: this only skips the rest of an abandoned dump.
    /// </summary>
    public static bool EndsDump(ReadOnlySpan<byte> datagram, uint sequence)
    {
        int offset = 0;
        while (datagram.Length - offset >= HeaderLength)
        {
            var rest = datagram[offset..];
            uint length = Read<uint>(rest);
            if (length < HeaderLength || length > rest.Length)
            {
                return true;
            }

            ushort type = Read<ushort>(rest[4..]);
            if (Read<uint>(rest[8..]) == sequence && type is NlmsgDone or NlmsgError)
            {
                return true;
            }

            offset += Align((int)length);
        }

        return offset < datagram.Length;
    }

    private static NetlinkException KernelError(string operation, int errno, string? kernelMessage)
    {
        string hint = errno switch
        {
            1 => " Reading the conntrack table needs CAP_NET_ADMIN in the network namespace.",
            95 => " ctnetlink is not available: load the kernel module nf_conntrack_netlink.",
            _ => string.Empty,
        };
        string detail = string.IsNullOrEmpty(kernelMessage) ? string.Empty : $" The kernel says: {kernelMessage}.";
        return new NetlinkException(
            string.Create(CultureInfo.InvariantCulture, $"The conntrack {operation} failed: the kernel answered errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)}).{hint}{detail}"),
            errno);
    }

    /// <summary>The kernel's NLMSGERR_ATTR_MSG text of an error reply (NETLINK_EXT_ACK), or null.</summary>
    internal static string? ExtendedAckMessage(ReadOnlySpan<byte> message, ushort flags)
    {
        if ((flags & NlmFAckTlvs) == 0 || message.Length < HeaderLength + 4 + HeaderLength)
        {
            return null;
        }

        // After the error code comes the request's header, and its payload too unless the reply was capped.
        int tlvs = HeaderLength + 4 + HeaderLength;
        if ((flags & NlmFCapped) == 0)
        {
            uint requestLength = Read<uint>(message[(HeaderLength + 4)..]);
            tlvs = HeaderLength + 4 + Align((int)Math.Min(requestLength, (uint)message.Length));
        }

        if (tlvs > message.Length)
        {
            return null;
        }

        try
        {
            var attributes = new AttributeReader(message[tlvs..]);
            while (attributes.Next(out ushort type, out var payload))
            {
                if (type == NlmsgerrAttrMsg)
                {
                    int end = payload.IndexOf((byte)0);
                    return Encoding.UTF8.GetString(end < 0 ? payload : payload[..end]);
                }
            }
        }
        catch (InvalidDataException)
        {
            // The explanation is optional; a malformed one must not hide the error code.
        }

        return null;
    }

    internal static int Align(int length) => (length + 3) & ~3;

    internal static void WriteHeader(Span<byte> destination, int length, ushort type, ushort flags, uint sequence, uint portId = 0)
    {
        Write(destination, (uint)length);
        Write(destination[4..], type);
        Write(destination[6..], flags);
        Write(destination[8..], sequence);
        Write(destination[12..], portId);
    }

    private static T Read<T>(ReadOnlySpan<byte> source)
        where T : unmanaged => MemoryMarshal.Read<T>(source);

    private static void Write<T>(Span<byte> destination, T value)
        where T : unmanaged => MemoryMarshal.Write(destination, in value);

    /// <summary>The fields of one entry collected while walking its attributes; -1 / null = not seen.</summary>
    private struct EntryFields
    {
        public EntryFields()
        {
        }

        public int Protocol { get; set; } = -1;

        public IPAddress? Source { get; set; }

        public IPAddress? Destination { get; set; }

        public int SourcePort { get; set; } = -1;

        public uint? Status { get; set; }

        public int DestinationPort { get; set; } = -1;

        public int TcpState { get; set; } = -1;
    }

    /// <summary>Walks the netlink messages of one datagram (nlmsghdr.nlmsg_len includes the header; messages are 4-byte aligned).</summary>
    internal ref struct MessageReader(ReadOnlySpan<byte> datagram)
    {
        private readonly ReadOnlySpan<byte> datagram = datagram;
        private int next;

        /// <summary>The byte offset of the message <see cref="Next"/> returned last.</summary>
        public int Start { get; private set; }

        /// <summary>The next message, header included; false at the end of the datagram.</summary>
        /// <exception cref="InvalidDataException">A message runs past the datagram, or stray bytes too short for a header follow the last one.</exception>
        public bool Next(out ReadOnlySpan<byte> message)
        {
            message = default;
            if (next >= datagram.Length)
            {
                return false;
            }

            var rest = datagram[next..];
            if (rest.Length < HeaderLength)
            {
                throw new InvalidDataException($"Netlink datagram has {rest.Length} stray bytes at byte {next}, fewer than a message header ({HeaderLength}).");
            }

            uint length = Read<uint>(rest);
            if (length < HeaderLength || length > rest.Length)
            {
                throw new InvalidDataException($"Netlink message at byte {next} claims {length} bytes, but {rest.Length} remain (a header alone is {HeaderLength}).");
            }

            message = rest[..(int)length];
            Start = next;
            next = Math.Min(datagram.Length, next + Align((int)length));
            return true;
        }
    }

    /// <summary>Walks a run of netlink attributes (struct nlattr: u16 length incl. header, u16 type; 4-byte aligned).</summary>
    private ref struct AttributeReader(ReadOnlySpan<byte> attributes)
    {
        private ReadOnlySpan<byte> rest = attributes;

        /// <summary>The next attribute's type (flags masked off) and payload; false at the end.</summary>
        /// <exception cref="InvalidDataException">An attribute header or payload runs past the end.</exception>
        public bool Next(out ushort type, out ReadOnlySpan<byte> payload)
        {
            if (rest.IsEmpty)
            {
                type = 0;
                payload = default;
                return false;
            }

            if (rest.Length < 4)
            {
                throw new InvalidDataException($"an attribute header is truncated ({rest.Length} bytes left, 4 needed).");
            }

            ushort length = Read<ushort>(rest);
            ushort rawType = Read<ushort>(rest[2..]);
            if (length < 4 || length > rest.Length)
            {
                throw new InvalidDataException($"attribute type {rawType & NlaTypeMask} claims {length} bytes, but {rest.Length} remain.");
            }

            type = (ushort)(rawType & NlaTypeMask);
            payload = rest[4..length];
            rest = rest[Math.Min(rest.Length, Align(length))..];
            return true;
        }
    }
}
