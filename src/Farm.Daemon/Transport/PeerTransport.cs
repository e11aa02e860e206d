using System.Net.Sockets;
using Grpc.Net.Client;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Transport;

/// <summary>
/// Sends membership requests over gRPC: one channel per peer per LAN address, every request sealed for that peer's
/// current run, every reply opened before the manager sees it. Sends are queued to the thread pool so the heartbeat
/// thread never waits on the network; completions take the host's lock briefly.
/// </summary>
internal sealed partial class PeerTransport : IPeerTransport, IDisposable
{
    /// <summary>Largest membership reply accepted (a GetView with every module's table; 4096 buckets take 8 KiB a module).</summary>
    public const int MaxReplySize = 1024 * 1024;

    /// <summary>How long the confirming probe of a broken connection may take: a refusal comes back within a round trip.</summary>
    internal static readonly TimeSpan GoneProbeTimeout = TimeSpan.FromMilliseconds(250);

    private readonly Dictionary<(string Peer, int Lan), (GrpcChannel Channel, Wire.Membership.MembershipClient Client, HeartbeatLink Link)> clients = [];
    private readonly Dictionary<(string Peer, int Lan), IPEndPoint> endpointsOf = [];
    private readonly ConcurrentDictionary<string, uint> refusedProtocolLogged = new(StringComparer.Ordinal);
    private readonly MembershipHost host;
    private readonly EnvelopeAuthenticator authenticator;
    private readonly ReplayGuard guard;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly CancellationTokenSource shutdown = new();
    private readonly TeardownThread teardown;
    private readonly Dictionary<(string Peer, int Lan), DatagramRoute> routes = [];
    private HeartbeatDatagrams? datagrams;
    private int disposed;

    /// <summary>Creates channels for every peer address; connections open lazily.</summary>
    /// <param name="peers">Every other node with its endpoint per LAN (index = LAN).</param>
    /// <param name="host">Where replies and failures go.</param>
    /// <param name="authenticator">Seals requests and opens replies.</param>
    /// <param name="guard">Replay windows of membership peers (shared with the server side: one seq stream per peer).</param>
    /// <param name="channelFor">Connection settings to a node (TLS verifying that node); the connect timeout becomes the detection timeout.</param>
    /// <param name="timeProvider">Clock for deadlines.</param>
    /// <param name="logger">Logger.</param>
    public PeerTransport(
        IReadOnlyDictionary<string, IReadOnlyList<IPEndPoint>> peers,
        MembershipHost host,
        EnvelopeAuthenticator authenticator,
        ReplayGuard guard,
        Func<string, ChannelSettings> channelFor,
        TimeProvider timeProvider,
        ILogger<PeerTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(channelFor);
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.authenticator = authenticator ?? throw new ArgumentNullException(nameof(authenticator));
        this.guard = guard ?? throw new ArgumentNullException(nameof(guard));
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        teardown = new TeardownThread(logger);

        // A peer that does not accept within the detection timeout is down anyway.
        foreach (var (peer, endpoints) in peers)
        {
            // A connection that opens proves a process listens on the peer's port: a starting node waits for it.
            string name = peer;
            var settings = channelFor(peer) with
            {
                ConnectTimeout = host.Options.DetectionTimeout,
                MaxReceiveMessageSize = MaxReplySize,
                Connected = () => host.NoteContact(name),
            };
            for (int lan = 0; lan < endpoints.Count; lan++)
            {
                var connection = new ConnectionTracker();
                var grpcChannel = GrpcChannels.ForTcp(FormatEndpoint(endpoints[lan]), settings with { Connection = connection });
                var client = new Wire.Membership.MembershipClient(grpcChannel);
                clients[(peer, lan)] = (grpcChannel, client, new HeartbeatLink(this, client, peer, lan, connection));
                endpointsOf[(peer, lan)] = endpoints[lan];
            }
        }
    }

    /// <summary>
    /// Sends heartbeats as datagrams through <paramref name="heartbeatDatagrams"/> where a peer's path proves it can
    /// (<see cref="DatagramRoute"/>), and takes their answers. Called once, before the heartbeat thread starts.
    /// </summary>
    public void UseDatagrams(HeartbeatDatagrams heartbeatDatagrams)
    {
        ArgumentNullException.ThrowIfNull(heartbeatDatagrams);
        var options = host.Options;
        foreach (var key in clients.Keys)
        {
            // Patience: two intervals and a little, well inside the detection timeout, so that a path that stops
            // carrying datagrams sends the heartbeats back to the stream before the peer misses this node.
            routes[key] = new DatagramRoute(timeProvider, (options.HeartbeatInterval * 2) + TimeSpan.FromMilliseconds(20), DatagramProbeEvery);
        }

        heartbeatDatagrams.Answered = DatagramAnswered;
        datagrams = heartbeatDatagrams;
    }

    /// <summary>How often a peer whose heartbeats go on the stream is probed for datagrams (<see cref="DatagramRoute.ProbeEvery"/>).</summary>
    internal static readonly TimeSpan DatagramProbeEvery = TimeSpan.FromSeconds(1);

    /// <summary>The datagram route to <paramref name="peer"/> on <paramref name="lan"/>, or null without datagrams.</summary>
    internal DatagramRoute? RouteTo(string peer, int lan) => routes.GetValueOrDefault((peer, lan));

    /// <summary>Seals <paramref name="request"/> and sends it as a datagram; false when it cannot go so (too large, not sent).</summary>
    private bool SendDatagram(HeartbeatDatagrams d, DatagramRoute route, OutboundRequest request)
    {
        var sealedRequest = Seal(request);
        if (sealedRequest.CalculateSize() + 4 > HeartbeatDatagrams.MaxDatagram)
        {
            return false; // a long drain report: the stream carries it
        }

        bool asksAnswer = request.Message is not HeartbeatRequest { Quiet: true };
        if (asksAnswer)
        {
            route.Sent(request, sealedRequest); // before the send: the answer may come back at once
        }

        return d.SendHeartbeat(request.To, request.Lan, sealedRequest);
    }

    /// <summary>A datagram answer from <paramref name="peer"/>: opened first (a forged one is dropped and counted), then handed on as a stream answer is.</summary>
    private void DatagramAnswered(string peer, int lan, Wire.Envelope answer)
    {
        if (!routes.TryGetValue((peer, lan), out var route) || route.Find(answer.ReplyTo) is not { } waiting)
        {
            return; // an answer to nothing waiting: late (the route fell back meanwhile), duplicated or forged
        }

        string method = MessageMapper.MethodOf(waiting.Request.Message);
        if (authenticator.OpenReply(method, EnvelopeKind.Reply, answer, "datagram from " + peer, guard, peer, waiting.Sealed.Seq) is not null)
        {
            return; // refused and counted; the request itself may still be answered
        }

        bool wasOnDatagrams = route.OnDatagrams;
        if (!route.Answered(waiting))
        {
            return;
        }

        if (!wasOnDatagrams)
        {
            Log.DatagramsConfirmed(logger, peer, lan);
        }

        CompleteOpened(waiting.Request, answer, waiting.At);
    }

    /// <summary>Heartbeat round trips per peer and LAN.</summary>
    public RoundTrips RoundTrips { get; } = new();

    /// <inheritdoc />
    public void Send(OutboundRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        if (request.Message is HeartbeatRequest heartbeat && clients.TryGetValue((request.To, request.Lan), out var peer))
        {
            if (datagrams is { } d && d.IsOpen(request.Lan) && routes.TryGetValue((request.To, request.Lan), out var route))
            {
                var choice = route.Choose(guard.IncarnationOf(request.To), out bool fellBack);
                if (fellBack)
                {
                    Log.DatagramsFellBack(logger, request.To, request.Lan, route.Patience.TotalMilliseconds, route.ProbeEvery.TotalSeconds);
                }

                if (choice == DatagramChoice.Datagram && SendDatagram(d, route, request))
                {
                    return;
                }

                if (choice == DatagramChoice.StreamAndProbe)
                {
                    SendDatagram(d, route, request with { Message = heartbeat with { Quiet = false } });
                }
            }

            if (peer.Link.TrySend(request))
            {
                return; // queued on the peer's heartbeat stream
            }
        }

        // The synchronous start of an HTTP/2 request (framing, connection pool lookup) must not run on the heartbeat thread.
        long queued = timeProvider.GetTimestamp();
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Self.SendAsync(state.Request, state.Queued), (Self: this, Request: request, Queued: queued), preferLocal: false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        shutdown.Cancel();
        foreach (var (channel, _, link) in clients.Values)
        {
            link.Dispose();
            channel.Dispose();
        }

        teardown.Dispose();

        // The token source stays undisposed: sends still completing may read its token.
    }

    /// <summary>
    /// How long a membership call may take. Not what detects a failure (the manager gives up on a request after the
    /// detection timeout, whatever the transport does) but how long a late reply is still read: opening it teaches
    /// this node the peer's current run (a first contact's RESEAL). A node that starts on a loaded machine answers its
    /// first calls slowly (cold code, a new HTTP/2 connection); with a deadline of two heartbeat intervals no answer
    /// ever got through, the newcomer heard nobody within its start-up grace and formed a farm of its own.
    /// </summary>
    internal static TimeSpan CallDeadline(MembershipOptions options) =>
        TimeSpan.FromTicks(Math.Max(options.DetectionTimeout.Ticks, MinCallDeadline.Ticks));

    /// <summary>The shortest <see cref="CallDeadline"/>, whatever the detection timeout.</summary>
    internal static readonly TimeSpan MinCallDeadline = TimeSpan.FromSeconds(1);

    internal static string FormatEndpoint(IPEndPoint endpoint) =>
        endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";

    private static AsyncUnaryCall<Wire.Envelope> Call(Wire.Membership.MembershipClient client, MembershipMessage message, Wire.Envelope envelope, CallOptions options) =>
        message switch
        {
            HeartbeatRequest => client.HeartbeatAsync(envelope, options),
            PrepareRequest => client.PrepareAsync(envelope, options),
            CommitRequest => client.CommitAsync(envelope, options),
            _ => client.GetViewAsync(envelope, options),
        };

    /// <summary>Seals <paramref name="request"/> for its recipient's current run (as the unary call's path names it).</summary>
    internal Wire.Envelope Seal(OutboundRequest request) =>
        authenticator.SealRequest(MessageMapper.MethodOf(request.Message), request.To, guard.IncarnationOf(request.To), (uint)request.Lan, MessageMapper.ToProto(request.Message));

    /// <summary>Timestamp of the transport's clock (for <see cref="Complete"/>'s round-trip measure and <see cref="Elapsed"/>).</summary>
    internal long Timestamp() => timeProvider.GetTimestamp();

    /// <summary>Time since <paramref name="timestamp"/> (from <see cref="Timestamp"/>).</summary>
    internal TimeSpan Elapsed(long timestamp) => timeProvider.GetElapsedTime(timestamp);

    /// <summary>
    /// Opens the peer's answer to <paramref name="request"/> (sent sealed as <paramref name="sealedRequest"/> at
    /// <paramref name="sent"/>) and hands it to the manager, or reports the request failed when the answer is refused,
    /// is a refusal, or cannot be parsed. Unary calls and the heartbeat stream share it.
    /// </summary>
    internal void Complete(OutboundRequest request, Wire.Envelope sealedRequest, Wire.Envelope reply, long sent)
    {
        string method = MessageMapper.MethodOf(request.Message);
        if (authenticator.OpenReply(method, EnvelopeKind.Reply, reply, "reply from " + request.To, guard, request.To, sealedRequest.Seq) is not null)
        {
            host.HandleFailure(request.CorrelationId); // refused and counted: as if nothing came back
            return;
        }

        CompleteOpened(request, reply, sent);
    }

    /// <summary>The part of <see cref="Complete"/> after the answer was opened: a refusal, or the reply to the manager.</summary>
    private void CompleteOpened(OutboundRequest request, Wire.Envelope reply, long sent)
    {
        string method = MessageMapper.MethodOf(request.Message);
        if (reply.Refusal != Wire.Refusal.None)
        {
            // RESEAL: opening the reply taught the guard the peer's current run; the next request is sealed for it.
            if (reply.Refusal == Wire.Refusal.Reseal)
            {
                host.NoteContact(request.To);
            }
            else if (reply.Refusal == Wire.Refusal.Protocol && refusedProtocolLogged.TryAdd(request.To, reply.MaxProtocol))
            {
                Log.ProtocolRefused(logger, request.To, reply.Protocol, reply.MaxProtocol, authenticator.Protocols.ToString());
            }

            host.HandleFailure(request.CorrelationId);
            return;
        }

        if (request.Message is HeartbeatRequest)
        {
            RoundTrips.Record(request.To, request.Lan, timeProvider.GetElapsedTime(sent));
        }

        try
        {
            host.HandleReply(request.CorrelationId, MessageMapper.ParseReply(method, reply.Payload, host.Limits));
        }
        catch (FormatException ex)
        {
            Log.MalformedReply(logger, request.To, ex.Message);
            host.HandleFailure(request.CorrelationId);
        }
    }

    /// <summary>Reports that no answer to <paramref name="request"/> will come (logged at Debug with <paramref name="why"/>).</summary>
    internal void Fail(OutboundRequest request, StatusCode status, string why)
    {
        Log.RequestFailed(logger, request.Message.GetType().Name, request.To, request.Lan, status, why);
        host.HandleFailure(request.CorrelationId);
    }

    /// <inheritdoc />
    public void ProbeGone(string peer, string trigger)
    {
        foreach (var (peerName, lan) in endpointsOf.Keys)
        {
            if (peerName == peer)
            {
                _ = ProbeGoneAsync(peer, lan, trigger);
            }
        }
    }

    /// <summary>
    /// The heartbeat stream to <paramref name="peer"/> on <paramref name="lan"/> broke (the connection closed or was
    /// reset): connects to the peer's port once more. A refusal means the host is up and nothing listens there: the
    /// farmd that served it died (a stopped or slow process still has its port accept connections; a cut link refuses
    /// nothing), and the manager hears that it is gone. Anything else (connected, timed out, unreachable) says nothing.
    /// Also run when this node refuses a proposal that leaves the peer out (<see cref="ProbeGone"/>); <paramref name="trigger"/>
    /// says which, for the log.
    /// </summary>
    internal async Task ProbeGoneAsync(string peer, int lan, string trigger = "its connection broke")
    {
        if (!endpointsOf.TryGetValue((peer, lan), out var endpoint) || shutdown.IsCancellationRequested)
        {
            return;
        }

        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token);
        timeout.CancelAfter(GoneProbeTimeout);
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            // Once per death: a dead peer's every reconnect attempt (each heartbeat) ends here again.
            if (host.NotePeerGone(peer, lan))
            {
                Log.PeerGone(logger, peer, lan, FormatEndpoint(endpoint), trigger);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // no evidence either way: the detection timeout decides
        }
    }

    /// <summary>Where heartbeat streams and connections are torn down (<see cref="TeardownThread"/>).</summary>
    internal TeardownThread Teardown => teardown;

    /// <summary>The heartbeat stream's events, logged under this class.</summary>
    internal ILogger Logger => logger;

    /// <summary>Cancelled when the transport is disposed.</summary>
    internal CancellationToken ShuttingDown => shutdown.Token;

    /// <summary>How long the oldest unanswered heartbeat on a stream may wait before the stream is started over.</summary>
    internal TimeSpan StreamPatience => CallDeadline(host.Options);

    private async Task SendAsync(OutboundRequest request, long queued)
    {
        try
        {
            if (!clients.TryGetValue((request.To, request.Lan), out var client))
            {
                Log.NoAddress(logger, request.To, request.Lan);
                host.HandleFailure(request.CorrelationId);
                return;
            }

            Wire.Envelope sealedRequest = Seal(request);
            var options = new CallOptions(deadline: (timeProvider.GetUtcNow() + CallDeadline(host.Options)).UtcDateTime, cancellationToken: shutdown.Token);
            long sent = timeProvider.GetTimestamp();
            Wire.Envelope reply = await Call(client.Client, request.Message, sealedRequest, options);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                // A view change's time, hop by hop (with the receiver's event 311): queued on the thread pool, then on the wire.
                Log.Answered(logger, request.Message.GetType().Name, request.To, timeProvider.GetElapsedTime(queued, sent).TotalMilliseconds,
                    timeProvider.GetElapsedTime(sent).TotalMilliseconds);
            }

            Complete(request, sealedRequest, reply, sent);
        }
        catch (RpcException ex)
        {
            if (!shutdown.IsCancellationRequested)
            {
                Fail(request, ex.StatusCode, ex.Status.Detail);
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException && shutdown.IsCancellationRequested)
        {
            // shutting down
        }
        catch (Exception ex)
        {
            Log.SendCrashed(logger, request.To, ex);
            host.HandleFailure(request.CorrelationId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "{Request} to {Peer} on LAN {Lan} failed: {Status} {Detail}")]
        public static partial void RequestFailed(ILogger logger, string request, string peer, int lan, StatusCode status, string detail);

        [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Malformed reply from {Peer}: {Problem}")]
        public static partial void MalformedReply(ILogger logger, string peer, string problem);

        [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "No address for {Peer} on LAN {Lan}")]
        public static partial void NoAddress(ILogger logger, string peer, int lan);

        [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "Sending to {Peer} failed unexpectedly")]
        public static partial void SendCrashed(ILogger logger, string peer, Exception exception);

        [LoggerMessage(EventId = 309, Level = LogLevel.Debug, Message = "{Request} to {Peer} answered: {QueuedMs:F1} ms queued, {CallMs:F1} ms on the call")]
        public static partial void Answered(ILogger logger, string request, string peer, double queuedMs, double callMs);

        [LoggerMessage(EventId = 307, Level = LogLevel.Information, Message = "{Endpoint} of {Peer} on LAN {Lan} refuses connections ({Trigger}): its farmd is gone")]
        public static partial void PeerGone(ILogger logger, string peer, int lan, string endpoint, string trigger);

        [LoggerMessage(EventId = 325, Level = LogLevel.Debug, Message = "Heartbeats to {Peer} on LAN {Lan} go as datagrams (a probe was answered)")]
        public static partial void DatagramsConfirmed(ILogger logger, string peer, int lan);

        [LoggerMessage(EventId = 326, Level = LogLevel.Debug,
            Message = "A heartbeat datagram to {Peer} on LAN {Lan} went unanswered for {Ms} ms: heartbeats go on the gRPC stream again, datagrams are probed again in {Seconds} s")]
        public static partial void DatagramsFellBack(ILogger logger, string peer, int lan, double ms, double seconds);

        [LoggerMessage(EventId = 304, Level = LogLevel.Error,
            Message = "{Peer} refuses this node's protocol: it speaks farm protocol {PeerOldest}-{PeerNewest}, this node {Ours}; upgrade the older node (a release speaks its own version and the previous one)")]
        public static partial void ProtocolRefused(ILogger logger, string peer, uint peerOldest, uint peerNewest, string ours);
    }
}
