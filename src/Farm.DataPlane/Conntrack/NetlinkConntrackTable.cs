using System.Runtime.Versioning;
using Farm.Native.Linux;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Conntrack;

/// <summary>
/// <see cref="IConntrackTable"/> over ctnetlink: one NETLINK_NETFILTER socket, one dump request per
/// <see cref="Dump"/>, replies parsed by <see cref="CtnetlinkParser"/> from one reused 64 KiB buffer. Thread-safe
/// (dumps are serialized).
/// </summary>
/// <remarks>
/// Create it on a thread in the network namespace to read (the daemon: the host's; tests: a namespace's): the socket
/// stays in that namespace. Reading needs CAP_NET_ADMIN. The kernel only tracks connections in a namespace once some
/// ruleset there uses conntrack (Farm's <c>ct state</c> rules do); before that the dump is empty.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed partial class NetlinkConntrackTable : IConntrackTable, IDisposable
{
    /// <summary>Size of the receive buffer. The kernel fills dump datagrams up to 32 KiB, so one always fits.</summary>
    public const int ReceiveBufferSize = 64 * 1024;

    /// <summary>Default of the receive timeout: how long one datagram of a dump may take before <see cref="Dump"/> gives up.</summary>
    public static readonly TimeSpan DefaultReceiveTimeout = TimeSpan.FromSeconds(2);

    private readonly ILogger logger;
    private readonly INetlinkChannel channel;
    private readonly byte[] buffer = new byte[ReceiveBufferSize];
    private readonly List<TrackedFlow> flows = [];
    private readonly Lock gate = new();
    private uint sequence;
    private uint? abandoned;
    private bool disposed;

    /// <summary>Opens the netlink socket in the calling thread's network namespace.</summary>
    /// <param name="logger">Logs dumps that had to be repeated.</param>
    /// <param name="receiveTimeout">How long to wait for each reply datagram; default <see cref="DefaultReceiveTimeout"/>.</param>
    /// <exception cref="NetlinkException">The socket could not be opened.</exception>
    public NetlinkConntrackTable(ILogger<NetlinkConntrackTable> logger, TimeSpan? receiveTimeout = null)
        : this(logger ?? throw new ArgumentNullException(nameof(logger)), new SocketChannel(NetlinkSocket.Open(NetlinkSocket.NetfilterProtocol, receiveTimeout ?? DefaultReceiveTimeout)))
    {
    }

    /// <summary>Reads through <paramref name="channel"/> (tests: a scripted fake); takes ownership of it.</summary>
    internal NetlinkConntrackTable(ILogger logger, INetlinkChannel channel)
    {
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(channel);
        this.logger = logger;
        this.channel = channel;
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
            if (abandoned is { } unfinished)
            {
                abandoned = null;
                FinishAbandoned(unfinished);
            }

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
            int length;
            try
            {
                length = channel.Receive(buffer);
            }
            catch (NetlinkException e) when (e.Errno == LibC.ENoBufs)
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

    private sealed class SocketChannel(NetlinkSocket socket) : INetlinkChannel
    {
        public void Send(ReadOnlySpan<byte> datagram) => socket.Send(datagram);

        public int Receive(Span<byte> buffer) => socket.Receive(buffer);

        public void Dispose() => socket.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Repeating the conntrack dump: {Reason}.")]
        public static partial void Repeating(ILogger logger, string reason);

        [LoggerMessage(2, LogLevel.Debug, "Skipped the rest of abandoned conntrack dump {Sequence}.")]
        public static partial void Abandoned(ILogger logger, uint sequence);
    }
}
