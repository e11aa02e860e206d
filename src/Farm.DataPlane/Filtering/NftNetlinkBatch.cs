using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Farm.DataPlane.Conntrack;
using Farm.Native.Linux;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// A change to existing sets that farmd writes as an nf_tables netlink batch of its own, without libnftables (which
/// parses the text and first fetches a cache of the tables, sets and chains from the kernel): one <c>sendto</c> and one
/// reply. <see cref="Text"/> is the same change as nft commands, for dry runs, recording fakes and the fallback.
/// </summary>
internal interface INftSetBatch
{
    /// <summary>The same change as nft commands.</summary>
    string Text { get; }

    /// <summary>The netlink batch, its messages numbered from <paramref name="firstSequence"/>; see <see cref="NftNetlinkBatch.Finish"/>.</summary>
    (byte[] Datagram, uint Last) Build(uint firstSequence);
}

/// <summary>
/// Writes an nf_tables netlink batch of set element messages: NFNL_MSG_BATCH_BEGIN, NFT_MSG_NEWSETELEM / DELSETELEM
/// messages on sets of <c>inet</c> tables, NFNL_MSG_BATCH_END (linux/netfilter/nfnetlink.h, nf_tables.h). Only the last
/// message asks for an acknowledgement: the kernel reports every failing message anyway, and the last one's reply (an
/// acknowledgement or its own error) ends the answer (<see cref="ReadReplies"/>).
/// </summary>
/// <remarks>
/// Element layout: NFTA_SET_ELEM_LIST_TABLE, _SET and _ELEMENTS, one NFTA_LIST_ELEM per element holding
/// NFTA_SET_ELEM_KEY (NFTA_DATA_VALUE, the key as the set stores it), optionally NFTA_SET_ELEM_FLAGS (interval end),
/// NFTA_SET_ELEM_TIMEOUT (big-endian milliseconds) and NFTA_SET_ELEM_DATA (a verdict: NFTA_DATA_VERDICT holding
/// NFTA_VERDICT_CODE and NFTA_VERDICT_CHAIN). A message without NFTA_SET_ELEM_LIST_ELEMENTS deletes every element of the
/// set (nft's <c>flush set</c>). The element list is a nested attribute whose length is 16 bits: long lists are split
/// over several messages of one batch, as nft does.
/// </remarks>
internal sealed class NftNetlinkBatch
{
    /// <summary>The size of the reply buffer <see cref="ReadReplies"/> needs: replies are acknowledgements and errors.</summary>
    public const int ReplyBufferSize = 8192;

    /// <summary>NFT_GOTO, the verdict code of a jump that does not return.</summary>
    private const int VerdictGoto = -4;

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
    private const ushort ElemData = 2;
    private const ushort ElemFlags = 3;
    private const ushort ElemTimeout = 4;
    private const ushort DataValue = 1;
    private const ushort DataVerdict = 2;
    private const ushort VerdictCode = 1;
    private const ushort VerdictChain = 2;
    private const uint ElemIntervalEnd = 1;
    private const ushort Nested = 0x8000;
    private const int Header = CtnetlinkParser.HeaderLength + CtnetlinkParser.NfGenMsgLength;

    /// <summary>Elements per message: each is at most ~80 bytes, so a list stays far below the 64 KiB of a nested attribute.</summary>
    private const int ElementsPerMessage = 400;

    private readonly List<byte> buffer;
    private readonly string table;
    private uint sequence;
    private int lastStart = -1;

    /// <summary>One element of a set or map.</summary>
    /// <param name="Key">The key as the set stores it (addresses and marks in network byte order, concatenations 4-byte aligned).</param>
    /// <param name="IntervalEnd">The element ends an interval (the first key past it) instead of starting one.</param>
    /// <param name="TimeoutMs">The element's timeout, for sets with <c>flags timeout</c>.</param>
    /// <param name="GotoChain">A verdict map's value: goto this chain.</param>
    public readonly record struct Element(byte[] Key, bool IntervalEnd = false, long? TimeoutMs = null, string? GotoChain = null);

    /// <summary>Starts a batch on sets of table <c>inet <paramref name="table"/></c>, messages numbered from <paramref name="firstSequence"/>.</summary>
    public NftNetlinkBatch(string table, uint firstSequence, int capacity = 512)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        this.table = table;
        buffer = new List<byte>(capacity);
        sequence = firstSequence;
        Message(BatchBegin, CtnetlinkParser.NlmFRequest, family: 0, resId: SubsysNftables, static _ => { });
    }

    /// <summary>Deletes every element of <paramref name="set"/> (nft's <c>flush set</c> and <c>flush map</c>).</summary>
    public NftNetlinkBatch Flush(string set)
    {
        lastStart = buffer.Count;
        Message(Type(DelSetElem), CtnetlinkParser.NlmFRequest, NfProtoInet, 0, b =>
        {
            String(b, ListTable, table);
            String(b, ListSet, set);
        });
        return this;
    }

    /// <summary>Adds <paramref name="elements"/> to <paramref name="set"/> (nft's <c>add element</c>); nothing when there are none.</summary>
    public NftNetlinkBatch Add(string set, IReadOnlyList<Element> elements) => Elements(NewSetElem, CtnetlinkParser.NlmFRequest | NlmFCreate, set, elements);

    /// <summary>Deletes <paramref name="elements"/> from <paramref name="set"/> (nft's <c>delete element</c>).</summary>
    public NftNetlinkBatch Delete(string set, IReadOnlyList<Element> elements) => Elements(DelSetElem, CtnetlinkParser.NlmFRequest, set, elements);

    /// <summary>
    /// Ends the batch: the last message asks for the acknowledgement that ends the kernel's answer. Returns the datagram and
    /// that message's sequence number.
    /// </summary>
    /// <exception cref="InvalidOperationException">The batch holds no message.</exception>
    public (byte[] Datagram, uint Last) Finish()
    {
        if (lastStart < 0)
        {
            throw new InvalidOperationException("An empty nf_tables batch: nothing to send.");
        }

        var flags = CollectionsMarshal.AsSpan(buffer).Slice(lastStart + 6, 2);
        BinaryPrimitives.WriteUInt16LittleEndian(flags, (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(flags) | CtnetlinkParser.NlmFAck));
        uint last = BinaryPrimitives.ReadUInt32LittleEndian(CollectionsMarshal.AsSpan(buffer).Slice(lastStart + 8, 4));
        Message(BatchEnd, CtnetlinkParser.NlmFRequest, family: 0, resId: SubsysNftables, static _ => { });
        return ([.. buffer], last);
    }

    /// <summary>A mark (bucket) as an interval set stores it: nft turns the host-order mark into network order for lookups.</summary>
    public static byte[] Mark(uint mark)
    {
        byte[] key = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(key, mark);
        return key;
    }

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
                throw new NftablesException($"The kernel's reply to an nf_tables batch was {length} bytes, more than {buffer.Length}.");
            }

            var messages = new CtnetlinkParser.MessageReader(buffer.AsSpan(0, length));
            while (messages.Next(out var message))
            {
                uint number = MemoryMarshal.Read<uint>(message[8..]);
                ushort type = MemoryMarshal.Read<ushort>(message[4..]);
                if (type != CtnetlinkParser.NlmsgError || number - firstSequence > last - firstSequence) // unsigned: wraps
                {
                    continue; // not an answer to this batch (a late one of an earlier batch that timed out)
                }

                int error = CtnetlinkParser.ErrorCode(message, messages.Start);
                if (error != 0)
                {
                    string? reason = CtnetlinkParser.ExtendedAckMessage(message, MemoryMarshal.Read<ushort>(message[6..]));
                    throw new NftablesException(string.Create(CultureInfo.InvariantCulture,
                        $"The kernel refused the nf_tables batch: errno {-error} ({Marshal.GetPInvokeErrorMessage(-error)}){(reason is null ? string.Empty : ": " + reason)}."));
                }

                if (number == last)
                {
                    return;
                }
            }
        }
    }

    private NftNetlinkBatch Elements(ushort message, int flags, string set, IReadOnlyList<Element> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        for (int first = 0; first < elements.Count; first += ElementsPerMessage)
        {
            int from = first;
            int to = Math.Min(elements.Count, first + ElementsPerMessage);
            lastStart = buffer.Count;
            Message(Type(message), flags, NfProtoInet, 0, b =>
            {
                String(b, ListTable, table);
                String(b, ListSet, set);
                Nest(b, ListElements, list =>
                {
                    for (int i = from; i < to; i++)
                    {
                        var element = elements[i];
                        Nest(list, ListElem, e => WriteElement(e, element));
                    }
                });
            });
        }

        return this;
    }

    private static void WriteElement(List<byte> e, Element element)
    {
        if (element.IntervalEnd)
        {
            Span<byte> value = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(value, ElemIntervalEnd);
            Attribute(e, ElemFlags, value);
        }

        Nest(e, ElemKey, data => Attribute(data, DataValue, element.Key));
        if (element.TimeoutMs is { } ms)
        {
            Span<byte> value = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(value, ms);
            Attribute(e, ElemTimeout, value);
        }

        if (element.GotoChain is { } chain)
        {
            Nest(e, ElemData, data => Nest(data, DataVerdict, verdict =>
            {
                Span<byte> code = stackalloc byte[4];
                BinaryPrimitives.WriteInt32BigEndian(code, VerdictGoto);
                Attribute(verdict, VerdictCode, code);
                String(verdict, VerdictChain, chain);
            }));
        }
    }

    private static ushort Type(ushort message) => (ushort)((SubsysNftables << 8) | message);

    private void Message(ushort type, int flags, byte family, ushort resId, Action<List<byte>> attributes)
    {
        int start = buffer.Count;
        buffer.AddRange(new byte[Header]);
        attributes(buffer);
        Span<byte> header = stackalloc byte[Header];
        CtnetlinkParser.WriteHeader(header, buffer.Count - start, type, (ushort)flags, sequence++);
        header[16] = family;
        header[17] = 0; // NFNETLINK_V0
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], resId);
        header.CopyTo(CollectionsMarshal.AsSpan(buffer)[start..]);
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
