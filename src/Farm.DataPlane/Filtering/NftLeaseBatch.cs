using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Farm.DataPlane.Conntrack;
using Farm.Native.Linux;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// A kernel lease refresh as one nf_tables netlink batch written here, without libnftables: for each VIP, add its
/// element to the lease set, delete it, and add it again with the new timeout (the same three commands as
/// <see cref="NftRuleset.RefreshLease"/>'s text, in one transaction). farmd refreshes its lease 20 times a second; through
/// libnftables each refresh parsed the text and first fetched a cache of the tables, sets and chains from the kernel,
/// ~1.4 % of a core per node (docs/performance.md, "Data path profile: first quiet run"). Here a refresh is one sendto
/// and one reply.
/// </summary>
/// <remarks>
/// Layout (linux/netfilter/nfnetlink.h, nf_tables.h): NFNL_MSG_BATCH_BEGIN, then NFT_MSG_NEWSETELEM / DELSETELEM
/// messages with NFTA_SET_ELEM_LIST_TABLE, _SET and _ELEMENTS (one NFTA_LIST_ELEM: NFTA_SET_ELEM_KEY holding
/// NFTA_DATA_VALUE, the address in network byte order, and NFTA_SET_ELEM_TIMEOUT, big-endian milliseconds), then
/// NFNL_MSG_BATCH_END. Only the last element message asks for an acknowledgement: the kernel reports every failing
/// message anyway, and the last one's reply (an acknowledgement or its own error) ends the answer.
/// </remarks>
internal static class NftLeaseBatch
{
    private const ushort BatchBegin = 0x10;
    private const ushort BatchEnd = 0x11;
    private const ushort SubsysNftables = 10;
    private const ushort NewSetElem = 12;
    private const ushort DelSetElem = 14;
    private const ushort NlmFCreate = 0x400;
    private const byte NfProtoInet = 1;
    private const ushort ListTable = 1;
    private const ushort ListSet = 2;
    private const ushort ListElements = 3;
    private const ushort ListElem = 1;
    private const ushort ElemKey = 1;
    private const ushort ElemTimeout = 4;
    private const ushort DataValue = 1;
    private const ushort Nested = 0x8000;
    private const int Header = CtnetlinkParser.HeaderLength + CtnetlinkParser.NfGenMsgLength;

    /// <summary>One element of a lease set: the set's name and the VIP.</summary>
    public readonly record struct Element(string Set, IPAddress Address);

    /// <summary>What a lease refresh writes: every VIP's element of table <c>inet Table</c>, to expire in <c>TimeoutMs</c>.</summary>
    public sealed record Refresh(string Table, IReadOnlyList<Element> Elements, long TimeoutMs)
    {
        /// <summary>The same refresh as nft commands (dry runs, batches that carry more than the lease, tests).</summary>
        public string Text
        {
            get
            {
                var sb = new StringBuilder();
                foreach (var (set, vip) in Elements)
                {
                    sb.Append(CultureInfo.InvariantCulture, $"add element inet {Table} {set} {{ {vip} }}\n");
                    sb.Append(CultureInfo.InvariantCulture, $"delete element inet {Table} {set} {{ {vip} }}\n");
                    sb.Append(CultureInfo.InvariantCulture, $"add element inet {Table} {set} {{ {vip} timeout {TimeoutMs}ms }}\n");
                }

                return sb.ToString();
            }
        }

        /// <summary>The netlink batch; see <see cref="Build"/>.</summary>
        public (byte[] Datagram, uint Last) Build(uint firstSequence) => NftLeaseBatch.Build(Table, Elements, TimeoutMs, firstSequence);
    }

    /// <summary>
    /// The batch that refreshes <paramref name="elements"/> of table <c>inet <paramref name="table"/></c> to expire
    /// in <paramref name="timeoutMs"/>; messages are numbered from <paramref name="firstSequence"/>. Returns the
    /// datagram and the sequence number whose reply ends the answer.
    /// </summary>
    public static (byte[] Datagram, uint Last) Build(string table, IReadOnlyList<Element> elements, long timeoutMs, uint firstSequence)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentNullException.ThrowIfNull(elements);
        ArgumentOutOfRangeException.ThrowIfZero(elements.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, 1);

        var buffer = new List<byte>(256 + (elements.Count * 3 * 96));
        uint sequence = firstSequence;
        Message(buffer, BatchBegin, CtnetlinkParser.NlmFRequest, sequence++, family: 0, resId: SubsysNftables, static _ => { });
        uint last = 0;
        for (int i = 0; i < elements.Count; i++)
        {
            var element = elements[i];
            byte[] key = element.Address.GetAddressBytes();
            bool final = i == elements.Count - 1;
            Message(buffer, Type(NewSetElem), CtnetlinkParser.NlmFRequest | NlmFCreate, sequence++, NfProtoInet, 0, b => ElementList(b, table, element.Set, key, null));
            Message(buffer, Type(DelSetElem), CtnetlinkParser.NlmFRequest, sequence++, NfProtoInet, 0, b => ElementList(b, table, element.Set, key, null));
            last = sequence;
            ushort flags = (ushort)(CtnetlinkParser.NlmFRequest | NlmFCreate | (final ? CtnetlinkParser.NlmFAck : 0));
            Message(buffer, Type(NewSetElem), flags, sequence++, NfProtoInet, 0, b => ElementList(b, table, element.Set, key, timeoutMs));
        }

        Message(buffer, BatchEnd, CtnetlinkParser.NlmFRequest, sequence, family: 0, resId: SubsysNftables, static _ => { });
        return ([.. buffer], last);
    }

    /// <summary>The size of the reply buffer <see cref="ReadReplies"/> needs: replies are acknowledgements and errors.</summary>
    public const int ReplyBufferSize = 8192;

    /// <summary>
    /// Reads the kernel's replies to a batch from <paramref name="receive"/> (one datagram per call into
    /// <paramref name="buffer"/>, its length) until the reply to <paramref name="last"/>; throws on the first error.
    /// </summary>
    /// <exception cref="NftablesException">The kernel refused a message of the batch (the whole batch then did nothing).</exception>
    public static void ReadReplies(byte[] buffer, Func<byte[], int> receive, uint firstSequence, uint last)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentNullException.ThrowIfNull(receive);
        while (true)
        {
            int length = receive(buffer);
            if (length > buffer.Length)
            {
                throw new NftablesException($"The kernel's reply to a lease refresh was {length} bytes, more than {buffer.Length}.");
            }

            var messages = new CtnetlinkParser.MessageReader(buffer.AsSpan(0, length));
            while (messages.Next(out var message))
            {
                uint sequence = MemoryMarshal.Read<uint>(message[8..]);
                ushort type = MemoryMarshal.Read<ushort>(message[4..]);
                if (type != CtnetlinkParser.NlmsgError || sequence - firstSequence > last - firstSequence) // unsigned: wraps
                {
                    continue; // not an answer to this batch (a late one of an earlier batch that timed out)
                }

                int error = CtnetlinkParser.ErrorCode(message, messages.Start);
                if (error != 0)
                {
                    string? reason = CtnetlinkParser.ExtendedAckMessage(message, MemoryMarshal.Read<ushort>(message[6..]));
                    throw new NftablesException(string.Create(CultureInfo.InvariantCulture,
                        $"The kernel refused the lease refresh: errno {-error} ({Marshal.GetPInvokeErrorMessage(-error)}){(reason is null ? string.Empty : ": " + reason)}."));
                }

                if (sequence == last)
                {
                    return;
                }
            }
        }
    }

    private static ushort Type(ushort message) => (ushort)((SubsysNftables << 8) | message);

    private static void Message(List<byte> buffer, ushort type, int flags, uint sequence, byte family, ushort resId, Action<List<byte>> attributes)
    {
        int start = buffer.Count;
        buffer.AddRange(new byte[Header]);
        attributes(buffer);
        Span<byte> header = stackalloc byte[Header];
        CtnetlinkParser.WriteHeader(header, buffer.Count - start, type, (ushort)flags, sequence);
        header[16] = family;
        header[17] = 0; // NFNETLINK_V0
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], resId);
        for (int i = 0; i < Header; i++)
        {
            buffer[start + i] = header[i];
        }
    }

    private static void ElementList(List<byte> buffer, string table, string set, byte[] key, long? timeoutMs)
    {
        String(buffer, ListTable, table);
        String(buffer, ListSet, set);
        Nest(buffer, ListElements, elements => Nest(elements, ListElem, element =>
        {
            Nest(element, ElemKey, data => Attribute(data, DataValue, key));
            if (timeoutMs is { } ms)
            {
                byte[] value = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(value, ms);
                Attribute(element, ElemTimeout, value);
            }
        }));
    }

    private static void String(List<byte> buffer, ushort type, string value) => Attribute(buffer, type, [.. Encoding.ASCII.GetBytes(value), 0]);

    private static void Attribute(List<byte> buffer, ushort type, ReadOnlySpan<byte> payload)
    {
        AttributeHeader(buffer, 4 + payload.Length, type);
        buffer.AddRange(payload);
        Pad(buffer);
    }

    private static void Nest(List<byte> buffer, ushort type, Action<List<byte>> content)
    {
        int start = buffer.Count;
        AttributeHeader(buffer, 0, (ushort)(type | Nested));
        content(buffer);
        BinaryPrimitives.WriteUInt16LittleEndian(CollectionsMarshal.AsSpan(buffer)[start..], (ushort)(buffer.Count - start));
    }

    private static void AttributeHeader(List<byte> buffer, int length, ushort type)
    {
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        buffer.AddRange(header);
    }

    private static void Pad(List<byte> buffer)
    {
        while (buffer.Count % 4 != 0)
        {
            buffer.Add(0);
        }
    }
}
