using System.Runtime.Versioning;
using Farm.Native.Linux;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Conntrack;

/// <summary>
/// <see cref="IConntrackTable"/> over ctnetlink: one NETLINK_NETFILTER socket; one dump request per <see cref="Dump"/>;
/// for <see cref="Lookup"/> and <see cref="Delete"/>, datagrams of up to <see cref="LookupBatchSize"/> requests, each
/// answered by a datagram of its own. Replies are parsed by <see cref="CtnetlinkParser"/> from one reused 64 KiB buffer. Thread-safe (calls are
/// serialized).
/// </summary>
/// <remarks>
/// Create it on a thread in the network namespace to read (the daemon: the host's; tests: a namespace's): the socket
/// stays in that namespace. Reading needs CAP_NET_ADMIN. The kernel only tracks connections in a namespace once some
/// ruleset there uses conntrack (Farm's <c>ct state</c> rules do); before that the dump is empty.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed partial class NetlinkConntrackTable : IConntrackTable, IDisposable
{
    /// <summary>Size of the buffer datagrams are read into. The kernel fills dump datagrams up to 32 KiB, so one always fits.</summary>
    public const int ReceiveBufferSize = 64 * 1024;

    /// <summary>
    /// The most lookups that go into one datagram. The kernel answers every request of a datagram while handling the
    /// send, each in a datagram of its own, so all answers of a batch wait in the socket's receive queue at once: a
    /// batch is also capped at the socket's receive buffer divided by <see cref="AnswerBudget"/>.
    /// </summary>
    public const int LookupBatchSize = 200;

    /// <summary>
    /// Socket receive buffer reserved per lookup answer in a batch, in bytes. Measured: an answer takes ~830 bytes of it
    /// (entry plus kernel overhead; 256 UDP answers filled the default 208 KiB), a TCP one a little more; 2 KiB leaves
    /// more than twice that.
    /// </summary>
    public const int AnswerBudget = 2048;

    /// <summary>
    /// The receive buffer (SO_RCVBUF) the socket asks for (the kernel doubles it: 1 MiB in effect), room for a full batch of
    /// <see cref="LookupBatchSize"/> answers. Best effort: granted past net.core.rmem_max only with CAP_NET_ADMIN,
    /// which reading the table needs anyway; with less, batches shrink.
    /// </summary>
    public const int SocketReceiveBufferRequest = 512 * 1024;

    /// <summary>Default of the receive timeout: how long one datagram of a dump may take before <see cref="Dump"/> gives up.</summary>
    public static readonly TimeSpan DefaultReceiveTimeout = TimeSpan.FromSeconds(2);

    private readonly ILogger logger;
    private readonly INetlinkChannel channel;
    private readonly byte[] buffer = new byte[ReceiveBufferSize];
    private readonly byte[] requests = new byte[LookupBatchSize * CtnetlinkRequestBuilder.Ipv6LookupLength];
    private readonly int[] batch = new int[LookupBatchSize];
    private readonly TrackedFlow?[] answers = new TrackedFlow?[LookupBatchSize];
    private readonly bool[] answered = new bool[LookupBatchSize];
    private readonly List<TrackedFlow> flows = [];
    private readonly Lock gate = new();
    private int batchSize;
    private uint sequence;
    private uint? abandoned;
    private bool unreadReplies;
    private bool disposed;

    /// <summary>Opens the netlink socket in the calling thread's network namespace.</summary>
    /// <param name="logger">Logs dumps that had to be repeated and lookup batches that had to shrink.</param>
    /// <param name="receiveTimeout">How long to wait for each reply datagram; default <see cref="DefaultReceiveTimeout"/>.</param>
    /// <exception cref="NetlinkException">The socket could not be opened.</exception>
    public NetlinkConntrackTable(ILogger<NetlinkConntrackTable> logger, TimeSpan? receiveTimeout = null)
        : this(logger ?? throw new ArgumentNullException(nameof(logger)), OpenSocket(receiveTimeout ?? DefaultReceiveTimeout, SocketReceiveBufferRequest))
    {
    }

    /// <summary>
    /// Reads through <paramref name="channel"/> (tests: a scripted fake, or a socket with a small receive buffer);
    /// takes ownership of it. <paramref name="batchSize"/> overrides the lookup batch size derived from its receive buffer.
    /// </summary>
    internal NetlinkConntrackTable(ILogger logger, INetlinkChannel channel, int? batchSize = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(channel);
        this.logger = logger;
        this.channel = channel;
        this.batchSize = Math.Clamp(batchSize ?? (channel.ReceiveBufferSize / AnswerBudget), 1, LookupBatchSize);
    }

    /// <summary>
    /// How many lookups go into one datagram here: <see cref="LookupBatchSize"/>, or fewer when the socket got a
    /// smaller receive buffer or the kernel once dropped answers.
    /// </summary>
    public int BatchSize
    {
        get
        {
            lock (gate)
            {
                return batchSize;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// A dump that lost messages (ENOBUFS) or that the kernel flagged inconsistent is repeated once; if the repeat is
    /// incomplete too, this throws instead of returning a table with holes.
    /// </remarks>
    /// <exception cref="NetlinkException">The kernel refused the dump, a socket call failed, no reply came within the receive timeout, or the dump was incomplete twice.</exception>
    /// <exception cref="InvalidDataException">A reply could not be parsed.</exception>
    public IReadOnlyList<TrackedFlow> Dump()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            ClearLeftovers();
            for (int attempt = 1; ; attempt++)
            {
                var (trouble, errno) = DumpOnce();
                if (trouble is null)
                {
                    return [.. flows];
                }

                if (attempt == 2)
                {
                    throw new NetlinkException($"The conntrack dump was incomplete twice in a row: {trouble}.", errno);
                }

                Log.Repeating(logger, trouble);
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The requests go out <see cref="BatchSize"/> to a datagram, and the answers are matched to them by sequence
    /// number. If the kernel dropped answers (ENOBUFS: the receive buffer overflowed), the unanswered lookups are sent
    /// again in smaller datagrams; only a datagram of which no answer got through makes this throw.
    /// </remarks>
    /// <exception cref="ArgumentException">A flow is not TCP or UDP, lacks an address, mixes IPv4 and IPv6 or has a port outside 0-65535.</exception>
    /// <exception cref="NetlinkException">The kernel refused a lookup (an error other than ENOENT), a socket call failed, an answer did not come within the receive timeout, or the kernel dropped every answer to a datagram.</exception>
    /// <exception cref="InvalidDataException">A reply could not be parsed.</exception>
    public IReadOnlyList<TrackedFlow?> Lookup(IReadOnlyList<TrackedFlow> flows) => Batched(flows, deletes: false);

    /// <inheritdoc />
    /// <remarks>Sent and retried in batches as <see cref="Lookup"/> is (IPCTNL_MSG_CT_DELETE with NLM_F_ACK).</remarks>
    /// <exception cref="ArgumentException">A flow is not TCP or UDP, lacks an address, mixes IPv4 and IPv6 or has a port outside 0-65535.</exception>
    /// <exception cref="NetlinkException">The kernel refused a delete (an error other than ENOENT), a socket call failed, an answer did not come within the receive timeout, or the kernel dropped every answer to a datagram.</exception>
    /// <exception cref="InvalidDataException">A reply could not be parsed.</exception>
    public IReadOnlyList<TrackedFlow?> Delete(IReadOnlyList<TrackedFlow> flows) => Batched(flows, deletes: true);

    /// <summary>Looks up or deletes <paramref name="flows"/> in batches (see <see cref="LookupBatch"/>).</summary>
    private TrackedFlow?[] Batched(IReadOnlyList<TrackedFlow> flows, bool deletes)
    {
        ArgumentNullException.ThrowIfNull(flows);
        for (int i = 0; i < flows.Count; i++)
        {
            CtnetlinkRequestBuilder.ThrowIfNotLookupable(flows[i], $"Flow {i}");
        }

        var results = new TrackedFlow?[flows.Count];
        if (flows.Count == 0)
        {
            return results;
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            ClearLeftovers();
            int start = 0;
            while (start < flows.Count)
            {
                int count = Math.Min(batchSize, flows.Count - start); // batchSize may shrink inside LookupBatch
                for (int k = 0; k < count; k++)
                {
                    batch[k] = start + k;
                }

                LookupBatch(flows, count, results, deletes);
                start += count;
            }
        }

        return results;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            channel.Dispose();
        }
    }

    /// <summary>Runs one dump into <see cref="flows"/>; returns why it cannot be trusted (and the errno), or null.</summary>
    private (string? Trouble, int Errno) DumpOnce()
    {
        uint seq = ++sequence;
        Span<byte> request = stackalloc byte[CtnetlinkParser.DumpRequestLength];
        CtnetlinkParser.WriteDumpRequest(request, seq);
        channel.Send(request);

        // Until the dump ends, the kernel keeps it running; if this attempt fails midway, the next one must first read
        // the rest (the kernel refuses a new dump on this socket with EBUSY while the old one runs).
        abandoned = seq;
        flows.Clear();
        bool lost = false;
        bool interrupted = false;
        while (true)
        {
            if (!TryReceiveReplies(out int length))
            {
                // Replies were dropped; read on to the end of this dump (a new one cannot start while it runs), then repeat.
                lost = true;
                continue;
            }

            if (length > buffer.Length)
            {
                throw new InvalidDataException($"A ctnetlink reply of {length} bytes did not fit the {buffer.Length}-byte buffer.");
            }

            CtnetlinkProgress progress;
            try
            {
                progress = CtnetlinkParser.Parse(buffer.AsSpan(0, length), seq, flows);
            }
            catch (NetlinkException)
            {
                abandoned = null; // the kernel's error reply ends the dump
                throw;
            }

            interrupted |= progress.Interrupted;
            if (progress.Done)
            {
                abandoned = null;
                break;
            }
        }

        return lost ? ("the kernel dropped reply messages (ENOBUFS)", LibC.ENoBufs)
            : interrupted ? ("the kernel flagged the dump as interrupted", 0)
            : (null, 0);
    }

    /// <summary>
    /// Waits for the next datagram of replies into <see cref="buffer"/> and returns its length; false instead when the
    /// kernel dropped replies because the receive buffer overflowed (ENOBUFS).
    /// </summary>
    private bool TryReceiveReplies(out int length)
    {
        try
        {
            length = channel.Receive(buffer);
            return true;
        }
        catch (NetlinkException e) when (e.Errno == LibC.ENoBufs)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// Looks up the flows whose indices are the first <paramref name="count"/> of <see cref="batch"/> and stores the
    /// answers in <paramref name="results"/> at those indices.
    /// </summary>
    /// <remarks>
    /// The kernel answers the whole datagram before the send returns, so every answer it did not drop is queued by
    /// then. When some were dropped (ENOBUFS: the receive buffer overflowed), the queued ones are read without waiting,
    /// the batch size shrinks to half of what got through (for this and later calls), and the unanswered lookups go
    /// out again in datagrams of that size. Only a datagram of which no answer got through fails the call.
    /// </remarks>
    private void LookupBatch(IReadOnlyList<TrackedFlow> flows, int count, TrackedFlow?[] results, bool deletes)
    {
        unreadReplies = true; // until every answer is read: a failure midway leaves some queued
        while (count > 0)
        {
            int sent = Math.Min(count, batchSize);
            var builder = new CtnetlinkRequestBuilder(requests);
            uint first = sequence + 1;
            for (int k = 0; k < sent; k++)
            {
                if (!(deletes ? builder.TryAddDelete(flows[batch[k]], ++sequence) : builder.TryAddLookup(flows[batch[k]], ++sequence)))
                {
                    throw new InvalidOperationException($"{sent} lookups do not fit the {requests.Length}-byte request buffer."); // sized for the worst case
                }
            }

            Array.Clear(answered, 0, sent);
            channel.Send(builder.Written);

            int open = sent;
            bool lost = false;
            while (open > 0)
            {
                if (!TryReceiveReplies(out int length))
                {
                    lost = true;
                    break;
                }

                open -= ParseLookupReplies(length, first, sent, deletes);
            }

            while (lost && open > 0 && channel.TryReceive(buffer, out int queued))
            {
                open -= ParseLookupReplies(queued, first, sent, deletes);
            }

            // Keep what was answered; the unanswered move to the front, before the lookups not sent yet.
            int unanswered = 0;
            for (int k = 0; k < sent; k++)
            {
                if (answered[k])
                {
                    // A delete's acknowledgement carries no entry: the answer is the flow asked for.
                    results[batch[k]] = deletes && answers[k] is not null ? flows[batch[k]] : answers[k];
                }
                else
                {
                    batch[unanswered++] = batch[k];
                }
            }

            Array.Copy(batch, sent, batch, unanswered, count - sent);
            count -= sent - unanswered;
            if (unanswered == 0)
            {
                continue;
            }

            int through = sent - unanswered;
            if (through == 0)
            {
                throw new NetlinkException($"The kernel dropped every answer to a datagram of {sent} conntrack {(deletes ? "deletes" : "lookups")} (ENOBUFS: the socket's receive buffer is full).", LibC.ENoBufs);
            }

            int smaller = Math.Max(1, through / 2);
            Log.ShrinkingBatches(logger, sent, through, Math.Min(batchSize, smaller));
            batchSize = Math.Min(batchSize, smaller);
        }

        unreadReplies = false;
    }

    private int ParseLookupReplies(int length, uint first, int count, bool deletes)
    {
        if (length > buffer.Length)
        {
            throw new InvalidDataException($"A ctnetlink reply of {length} bytes did not fit the {buffer.Length}-byte buffer.");
        }

        return CtnetlinkParser.ParseLookupReplies(buffer.AsSpan(0, length), first, answers.AsSpan(0, count), answered.AsSpan(0, count), deletes);
    }

    /// <summary>
    /// Before a new request: reads the rest of a dump an earlier call gave up on (the kernel refuses a new dump while
    /// it runs), and drops the answers an earlier lookup left queued (they would take room from the next batch's).
    /// </summary>
    private void ClearLeftovers()
    {
        if (abandoned is { } unfinished)
        {
            abandoned = null;
            FinishAbandoned(unfinished);
        }

        if (unreadReplies)
        {
            unreadReplies = false;
            int dropped = 0;
            while (true)
            {
                try
                {
                    if (!channel.TryReceive(buffer, out _))
                    {
                        break;
                    }

                    dropped++;
                }
                catch (NetlinkException e) when (e.Errno == LibC.ENoBufs)
                {
                    // Some were lost already; the rest is still queued.
                }
            }

            Log.DroppedLeftovers(logger, dropped);
        }
    }

    /// <summary>Reads and drops the rest of a dump that an earlier call gave up on, until its end or until nothing more comes.</summary>
    private void FinishAbandoned(uint unfinished)
    {
        while (true)
        {
            int length;
            try
            {
                length = channel.Receive(buffer);
            }
            catch (NetlinkException e) when (e.Errno == LibC.ENoBufs)
            {
                continue;
            }
            catch (NetlinkException e) when (e.Errno == LibC.EAgain)
            {
                return; // nothing is running any more
            }

            if (CtnetlinkParser.EndsDump(buffer.AsSpan(0, Math.Min(length, buffer.Length)), unfinished))
            {
                Log.Abandoned(logger, unfinished);
                return;
            }
        }
    }

    /// <summary>A NETLINK_NETFILTER socket in the calling thread's network namespace, asking for <paramref name="receiveBufferSize"/>.</summary>
    /// <exception cref="NetlinkException">The socket could not be opened.</exception>
    internal static INetlinkChannel OpenSocket(TimeSpan receiveTimeout, int receiveBufferSize) =>
        new SocketChannel(NetlinkSocket.Open(NetlinkSocket.NetfilterProtocol, receiveTimeout, receiveBufferSize));

    private sealed class SocketChannel(NetlinkSocket socket) : INetlinkChannel
    {
        public void Send(ReadOnlySpan<byte> datagram) => socket.Send(datagram);

        public int ReceiveBufferSize => socket.ReceiveBufferSize;

        public int Receive(Span<byte> buffer) => socket.Receive(buffer);

        public bool TryReceive(Span<byte> buffer, out int length) => socket.TryReceive(buffer, out length);

        public void Dispose() => socket.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(2031, LogLevel.Debug, "Repeating the conntrack dump: {Reason}.")]
        public static partial void Repeating(ILogger logger, string reason);

        [LoggerMessage(2032, LogLevel.Debug, "Skipped the rest of abandoned conntrack dump {Sequence}.")]
        public static partial void Abandoned(ILogger logger, uint sequence);

        [LoggerMessage(2033, LogLevel.Information, "The kernel dropped answers to conntrack lookups (ENOBUFS): {Through} of {Sent} got through; asking again for the rest, {BatchSize} to a datagram from now on.")]
        public static partial void ShrinkingBatches(ILogger logger, int sent, int through, int batchSize);

        [LoggerMessage(2034, LogLevel.Debug, "Dropped {Count} queued answers of an earlier, failed conntrack lookup.")]
        public static partial void DroppedLeftovers(ILogger logger, int count);
    }
}
