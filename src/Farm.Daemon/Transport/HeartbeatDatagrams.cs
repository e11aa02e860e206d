using System.Net.Sockets;
using Farm.Core.Scheduling;
using Google.Protobuf;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Transport;

/// <summary>
/// Heartbeats as UDP datagrams on the membership port (the same number as the gRPC port, on each LAN address): one
/// datagram per heartbeat and per answer, each the heartbeat's envelope sealed exactly as on the stream (same MAC, same
/// recipient binding, same replay windows). Why not only gRPC: an idle farm's CPU is the HTTP/2 and thread-pool
/// hand-offs each stream message costs on both ends (docs/performance.md, ~0.5 ms of CPU per message on the
/// reference machine), and the product must cost next to nothing on nodes whose CPU belongs to the partner's
/// application. Here the heartbeat thread writes the datagram itself and one real-time thread per LAN receives,
/// opens and serves it: no pool, no HTTP/2. Everything else of the membership protocol (joins, views, admin) and the
/// fallback stay gRPC (<see cref="DatagramRoute"/> decides per peer, by probing).
/// </summary>
/// <remarks>
/// A datagram is a 4-byte header (<c>'F' 'H'</c>, version 1, kind 1 = heartbeat, 2 = answer) and the envelope's
/// protobuf bytes; anything else, anything larger than <see cref="MaxDatagram"/>, and anything from an address that is
/// not a peer's address on that LAN is dropped before it is parsed (counted as a refusal like a foreign TCP
/// connection). Answers go to the peer's configured address, never to the datagram's source, so a forged source
/// cannot aim answers anywhere. Not used with TLS: datagrams carry no TLS, so heartbeats then stay on the TLS stream.
/// </remarks>
internal sealed partial class HeartbeatDatagrams : IDisposable
{
    /// <summary>Largest datagram sent or accepted: a sealed heartbeat is ~150 bytes; one that carries a long drain report goes on the stream.</summary>
    public const int MaxDatagram = 1200;

    private const byte Version = 1;
    private const byte KindHeartbeat = 1;
    private const byte KindAnswer = 2;

    private readonly Lan[] lans;
    private readonly IThreadPriority? priority;
    private readonly ILogger logger;
    private volatile bool stopping;

    /// <param name="localEndpoints">This node's membership endpoint on each LAN (index = LAN).</param>
    /// <param name="peers">Every other node's membership endpoint per LAN.</param>
    /// <param name="priority">Raises the receive threads to the heartbeat thread's real-time priority; null: not raised.</param>
    /// <param name="logger">Logger.</param>
    public HeartbeatDatagrams(
        IReadOnlyList<IPEndPoint> localEndpoints, IReadOnlyDictionary<string, IReadOnlyList<IPEndPoint>> peers, IThreadPriority? priority, ILogger<HeartbeatDatagrams> logger)
    {
        ArgumentNullException.ThrowIfNull(localEndpoints);
        ArgumentNullException.ThrowIfNull(peers);
        this.priority = priority;
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        lans = new Lan[localEndpoints.Count];
        for (int lan = 0; lan < lans.Length; lan++)
        {
            int index = lan;
            var onLan = peers.Where(p => index < p.Value.Count).Select(p => new Peer(p.Key, p.Value[index])).ToArray();
            lans[lan] = new Lan(lan, localEndpoints[lan], onLan);
        }
    }

    /// <summary>Serves a heartbeat that arrived (from the source address given): the answer to send back, or null (quiet, or refused and counted).</summary>
    public Func<Wire.Envelope, string, Wire.Envelope?>? Serve { get; set; }

    /// <summary>An answer that arrived from a peer on a LAN (not opened yet).</summary>
    public Action<string, int, Wire.Envelope>? Answered { get; set; }

    /// <summary>A datagram from an address that is no peer's on its LAN (counted like a foreign connection).</summary>
    public Action<string>? Foreign { get; set; }

    /// <summary>True once <see cref="Start"/> bound the LAN's socket (false before, after <see cref="Stop"/>, or when its port is taken).</summary>
    public bool IsOpen(int lan) => !stopping && lan >= 0 && lan < lans.Length && lans[lan].Socket is not null;

    /// <summary>Datagrams received and handed on (heartbeats served, answers passed on) since the start, over every LAN.</summary>
    public long Received => lans.Sum(l => Interlocked.Read(ref l.Received));

    /// <summary>Datagrams sent since the start, over every LAN.</summary>
    public long Sent => lans.Sum(l => Interlocked.Read(ref l.Sent));

    /// <summary>Binds each LAN's UDP socket and starts its receive thread. A LAN whose port is taken is logged and left to the stream.</summary>
    public void Start()
    {
        foreach (var lan in lans)
        {
            var socket = new Socket(lan.Local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.Bind(lan.Local);
                socket.SendTimeout = 20; // a datagram never waits long: a full send buffer drops it instead
            }
            catch (SocketException e)
            {
                socket.Dispose();
                Log.BindFailed(logger, lan.Index, PeerTransport.FormatEndpoint(lan.Local), e.Message);
                continue;
            }

            lan.Socket = socket;
            lan.Thread = new Thread(() => Receive(lan))
            {
                IsBackground = true,
                Name = "farm-datagrams",
            };
            lan.Thread.Start();
        }
    }

    /// <summary>Stops serving and sending: closes the sockets and joins the receive threads. Idempotent.</summary>
    public void Stop()
    {
        stopping = true;
        foreach (var lan in lans)
        {
            lan.Socket?.Dispose(); // unblocks the receive
            if (lan.Thread is { } t && t != Thread.CurrentThread)
            {
                t.Join(TimeSpan.FromSeconds(2));
            }
        }
    }

    public void Dispose() => Stop();

    /// <summary>Sends a sealed heartbeat to <paramref name="peer"/> on <paramref name="lan"/>; false when it cannot go as a datagram (too large, no socket, send failed).</summary>
    public bool SendHeartbeat(string peer, int lan, Wire.Envelope envelope) => Send(peer, lan, KindHeartbeat, envelope);

    private bool Send(string peer, int lan, byte kind, Wire.Envelope envelope)
    {
        if (stopping || lan < 0 || lan >= lans.Length || lans[lan] is not { Socket: { } socket } route || !route.ByName.TryGetValue(peer, out var to))
        {
            return false;
        }

        int size = envelope.CalculateSize();
        if (size + 4 > MaxDatagram)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[size + 4];
        buffer[0] = (byte)'F';
        buffer[1] = (byte)'H';
        buffer[2] = Version;
        buffer[3] = kind;
        envelope.WriteTo(buffer[4..]);
        try
        {
            socket.SendTo(buffer, SocketFlags.None, to.Address); // serialized once, not per datagram
            Interlocked.Increment(ref route.Sent);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Log.SendFailed(logger, peer, lan, e.Message);
            return false;
        }
    }

    private void Receive(Lan lan)
    {
        if (priority?.TryRaiseCurrentThread(Heartbeat.MembershipHost.HeartbeatPriority) is { } refused)
        {
            Log.PriorityRefused(logger, lan.Index, refused);
        }

        var socket = lan.Socket!;
        byte[] buffer = new byte[MaxDatagram + 1]; // one more: a longer datagram is seen as too long, not cut to fit
        var from = new SocketAddress(lan.Local.AddressFamily);
        while (!stopping)
        {
            int length;
            try
            {
                // The allocation-free receive: no endpoint object per datagram (most of an idle node's wake-ups are these).
                length = socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                continue; // an ICMP error of an earlier send, or a datagram too long for the buffer (dropped)
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (!stopping)
                {
                    Log.ReceiveFailed(logger, lan.Index, e.Message);
                }

                return;
            }

            try
            {
                Handle(lan, buffer.AsSpan(0, length), from);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The thread must outlive any one datagram: without it this node hears no datagram heartbeat.
                Log.HandleFailed(logger, lan.Index, e);
            }
        }
    }

    private void Handle(Lan lan, ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        if (lan.PeerAt(from) is not { } sender)
        {
            var source = (IPEndPoint)lan.Local.Create(from);
            Foreign?.Invoke(Normal(source.Address).ToString());
            return;
        }

        string peer = sender.Name;

        if (datagram.Length < 5 || datagram.Length > MaxDatagram || datagram[0] != (byte)'F' || datagram[1] != (byte)'H' || datagram[2] != Version
            || datagram[3] is not (KindHeartbeat or KindAnswer))
        {
            return;
        }

        Wire.Envelope envelope;
        try
        {
            envelope = Wire.Envelope.Parser.ParseFrom(datagram[4..]);
        }
        catch (InvalidProtocolBufferException)
        {
            return;
        }

        Interlocked.Increment(ref lan.Received);
        if (datagram[3] == KindAnswer)
        {
            Answered?.Invoke(peer, lan.Index, envelope);
            return;
        }

        if (envelope.Lan != (uint)lan.Index || Serve?.Invoke(envelope, sender.Source) is not { } answer)
        {
            return;
        }

        // To the sender's configured address (the MAC proved who sealed it), not to where the datagram says it came from.
        if (lan.ByName.ContainsKey(envelope.Sender))
        {
            Send(envelope.Sender, lan.Index, KindAnswer, answer);
        }
    }

    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private sealed class Lan(int index, IPEndPoint local, Peer[] peers)
    {
        public long Received;
        public long Sent;

        public int Index { get; } = index;

        public IPEndPoint Local { get; } = local;

        public Dictionary<string, Peer> ByName { get; } = peers.ToDictionary(p => p.Name, StringComparer.Ordinal);

        public Socket? Socket { get; set; }

        public Thread? Thread { get; set; }

        /// <summary>The peer whose address <paramref name="from"/> holds (the sockaddr's address bytes), or null.</summary>
        public Peer? PeerAt(SocketAddress from)
        {
            // sockaddr_in: family, port, 4 address bytes at 4; sockaddr_in6: family, port, flow info, 16 bytes at 8.
            var raw = from.Buffer.Span;
            var address = from.Family == AddressFamily.InterNetworkV6 ? raw.Slice(8, 16) : raw.Slice(4, 4);
            foreach (var peer in peers)
            {
                if (address.SequenceEqual(peer.Bytes))
                {
                    return peer;
                }
            }

            return null;
        }
    }

    /// <summary>A peer on one LAN: its name, its membership endpoint (as the sockaddr datagrams go to), its address as text (for the refusal counters) and as bytes.</summary>
    private sealed class Peer(string name, IPEndPoint endpoint)
    {
        public string Name { get; } = name;

        public SocketAddress Address { get; } = endpoint.Serialize();

        public string Source { get; } = Normal(endpoint.Address).ToString();

        public byte[] Bytes { get; } = Normal(endpoint.Address).GetAddressBytes();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 320, Level = LogLevel.Warning,
            Message = "Heartbeat datagrams on LAN {Lan}: cannot bind UDP {Endpoint} ({Problem}); heartbeats on that LAN stay on the gRPC stream (another process holds the UDP port?)")]
        public static partial void BindFailed(ILogger logger, int lan, string endpoint, string problem);

        [LoggerMessage(EventId = 321, Level = LogLevel.Debug, Message = "Heartbeat datagram to {Peer} on LAN {Lan} not sent: {Problem}")]
        public static partial void SendFailed(ILogger logger, string peer, int lan, string problem);

        [LoggerMessage(EventId = 322, Level = LogLevel.Error, Message = "Heartbeat datagrams on LAN {Lan}: receiving failed ({Problem}); heartbeats on that LAN go back to the gRPC stream")]
        public static partial void ReceiveFailed(ILogger logger, int lan, string problem);

        [LoggerMessage(EventId = 323, Level = LogLevel.Error, Message = "Heartbeat datagrams on LAN {Lan}: a datagram could not be handled")]
        public static partial void HandleFailed(ILogger logger, int lan, Exception exception);

        [LoggerMessage(EventId = 324, Level = LogLevel.Warning, Message = "The heartbeat datagram thread of LAN {Lan} runs at normal priority: {Reason}")]
        public static partial void PriorityRefused(ILogger logger, int lan, string reason);
    }
}
