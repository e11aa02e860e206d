using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Heartbeat;

/// <summary>Serves <c>farm.v1.Membership</c>: opens each request envelope, lets the manager answer, seals the reply.</summary>
internal sealed partial class MembershipService : Wire.Membership.MembershipBase, IDisposable
{
    private readonly MembershipHost host;
    private readonly EnvelopeAuthenticator authenticator;
    private readonly ReplayGuard guard;
    private readonly Func<string, bool> isPeer;
    private readonly bool requirePeerCertificate;
    private readonly ILogger logger;
    private readonly CancellationTokenSource closing = new();
    private readonly HeartbeatOrder heartbeatOrder = new();

    /// <param name="host">The membership host.</param>
    /// <param name="authenticator">Opens requests, seals replies.</param>
    /// <param name="guard">Replay windows of membership peers.</param>
    /// <param name="peerNames">Every other node of the cluster file: the only accepted senders.</param>
    /// <param name="requirePeerCertificate">With TLS: the caller's certificate (checked against the CA by Kestrel) must name the sender.</param>
    /// <param name="logger">Logger.</param>
    public MembershipService(
        MembershipHost host, EnvelopeAuthenticator authenticator, ReplayGuard guard, IEnumerable<string> peerNames, bool requirePeerCertificate, ILogger<MembershipService> logger)
    {
        this.requirePeerCertificate = requirePeerCertificate;
        this.host = host;
        this.authenticator = authenticator;
        this.guard = guard;
        isPeer = new HashSet<string>(peerNames, StringComparer.Ordinal).Contains; // one delegate, not one per request
        this.logger = logger;
    }

    /// <summary>
    /// Largest membership request: a heartbeat is small, a Prepare may carry every module's base table (2 bytes a bucket
    /// plus member names), so the bound follows the modules.
    /// </summary>
    public static int MaxRequestSize(IEnumerable<Farm.Core.Config.ModuleConfig> modules) =>
        64 * 1024 + (modules ?? []).Sum(m => (m.Buckets * 2) + (8 * 1024));

    /// <summary>False only in tests that play a release from before the heartbeat stream (it then answers UNIMPLEMENTED).</summary>
    public bool ServesHeartbeatStream { get; init; } = true;

    /// <summary>True only in tests that play a release from before quiet heartbeats: every heartbeat is answered.</summary>
    public bool AnswersEveryHeartbeat { get; init; }

    public override Task<Wire.Envelope> Heartbeat(Wire.Envelope request, ServerCallContext context) => Task.FromResult(Handle(request, context, context.Method));

    /// <summary>
    /// Heartbeats on one stream: every item is handled as a unary Heartbeat (same MAC path, same checks) and answered
    /// in order, except a quiet one that was served (its sender matches answers by <c>reply_to</c>); a refused item ends
    /// the stream with the status the unary call would have returned.
    /// </summary>
    public override async Task HeartbeatStream(IAsyncStreamReader<Wire.Envelope> requestStream, IServerStreamWriter<Wire.Envelope> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        if (!ServesHeartbeatStream)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "this node plays a release without the heartbeat stream"));
        }

        using var call = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, closing.Token);
        try
        {
            while (await requestStream.MoveNext(call.Token).ConfigureAwait(false))
            {
                if (Serve(requestStream.Current, context, MethodPaths.Heartbeat, mayStayQuiet: !AnswersEveryHeartbeat) is { } answer)
                {
                    await responseStream.WriteAsync(answer, call.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "this node is stopping"));
        }
        catch (Exception e) when (e is IOException || (e is OperationCanceledException && context.CancellationToken.IsCancellationRequested))
        {
            // The peer reset its stream (it aborts one that stopped answering, or its process died): nobody is left to
            // answer, and an ordinary end of a peer's stream is not this node's error (the peer logs why it ended it).
        }
    }

    /// <summary>
    /// Ends every heartbeat stream peers hold open here, and refuses new ones: called once this node has left the farm,
    /// so that the server's graceful stop does not wait for streams that never end by themselves.
    /// </summary>
    public void CloseStreams() => closing.Cancel();

    public void Dispose() => closing.Dispose();

    public override Task<Wire.Envelope> Prepare(Wire.Envelope request, ServerCallContext context) => Task.FromResult(Handle(request, context, context.Method));

    public override Task<Wire.Envelope> Commit(Wire.Envelope request, ServerCallContext context) => Task.FromResult(Handle(request, context, context.Method));

    public override Task<Wire.Envelope> GetView(Wire.Envelope request, ServerCallContext context) => Task.FromResult(Handle(request, context, context.Method));

    /// <summary>Opens <paramref name="envelope"/>, sealed for <paramref name="method"/>, lets the manager answer and seals the reply.</summary>
    private Wire.Envelope Handle(Wire.Envelope envelope, ServerCallContext context, string method) =>
        Serve(envelope, context, method, mayStayQuiet: false)!; // null only for a quiet heartbeat that may stay quiet

    /// <summary>
    /// As <see cref="Handle"/>; with <paramref name="mayStayQuiet"/> (the heartbeat stream), null for a quiet heartbeat
    /// that was served: nothing is sealed or sent. Refusals are always answered.
    /// </summary>
    private Wire.Envelope? Serve(Wire.Envelope envelope, ServerCallContext context, string method, bool mayStayQuiet)
    {
        if (requirePeerCertificate && !CertificateNames(context, envelope.Sender))
        {
            authenticator.Rejections.Record(CallSource.Of(context), RejectReason.TlsIdentity, method, envelope.Sender);
            throw CallSource.Refused(RejectReason.TlsIdentity);
        }

        return Serve(envelope, CallSource.Of(context), method, mayStayQuiet);
    }

    /// <summary>
    /// A heartbeat that came as a datagram (<see cref="Transport.HeartbeatDatagrams"/>) from <paramref name="source"/>:
    /// served exactly as a heartbeat on the stream; the answer to send back, or null when there is
    /// none (quiet, or refused: a refusal is counted and a datagram gets no error back).
    /// </summary>
    public Wire.Envelope? ServeDatagram(Wire.Envelope envelope, string source)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (closing.IsCancellationRequested)
        {
            return null; // this node left the farm: as its streams, its datagrams are served no more
        }

        try
        {
            return Serve(envelope, source, MethodPaths.Heartbeat, mayStayQuiet: !AnswersEveryHeartbeat);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    private Wire.Envelope? Serve(Wire.Envelope envelope, string source, string method, bool mayStayQuiet)
    {
        var verdict = authenticator.OpenRequest(method, envelope, source, guard, isPeer);
        if (verdict.Answer != Wire.Refusal.None)
        {
            if (verdict.Answer == Wire.Refusal.Reseal)
            {
                host.NoteContact(envelope.Sender); // authentic, only sealed before the sender knew this run
            }

            return authenticator.SealReply(method, EnvelopeKind.Reply, envelope, null, verdict.Answer);
        }

        if (verdict.Reason is { } reason)
        {
            throw CallSource.Refused(reason);
        }

        if (envelope.Lan >= host.Options.LanCount)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"LAN {envelope.Lan} does not exist."));
        }

        MembershipMessage request;
        try
        {
            request = MessageMapper.ParseRequest(method, envelope.Payload, host.Limits);
        }
        catch (FormatException ex)
        {
            Log.Malformed(logger, envelope.Sender, ex.Message);
            throw new RpcException(new Status(StatusCode.InvalidArgument, ex.Message));
        }

        // A heartbeat that a later one of the same run overtook (it came on the slower of two paths: the stream and the
        // datagrams) says what is no longer so: served, it would set the sender's state back until its next heartbeat.
        // Dropped where no answer is owed (stream and datagrams answer by reply_to; a unary call is always served).
        if (mayStayQuiet && request is HeartbeatRequest && !heartbeatOrder.IsNewest(envelope.Sender, envelope.Incarnation, envelope.Seq))
        {
            return null;
        }

        // Timed only when it is logged: heartbeats (20 a second per peer) are not, and Debug is off by default.
        bool timed = request is not HeartbeatRequest && logger.IsEnabled(LogLevel.Debug);
        TimeSpan started = timed ? host.Now : default;
        TimeSpan compiled = timed ? System.Runtime.JitInfo.GetCompilationTime(currentThread: true) : default;
        var reply = host.HandleRequest(envelope.Sender, (int)envelope.Lan, request);
        if (timed)
        {
            // The JIT share: a restarted farmd compiles what ReadyToRun left out on the first view changes it takes part in.
            Log.Served(logger, request.GetType().Name, envelope.Sender, (host.Now - started).TotalMilliseconds,
                (System.Runtime.JitInfo.GetCompilationTime(currentThread: true) - compiled).TotalMilliseconds);
        }
        if (mayStayQuiet && request is HeartbeatRequest { Quiet: true })
        {
            return null;
        }

        return authenticator.SealReply(method, EnvelopeKind.Reply, envelope, MessageMapper.ToProto(reply));
    }

    private static bool CertificateNames(ServerCallContext context, string sender) =>
        context.GetHttpContext().Connection.ClientCertificate is { } certificate
        && Farm.Protocol.Tls.ClusterTls.NamesOf(certificate).Contains(sender, StringComparer.Ordinal);

    private static partial class Log
    {
        [LoggerMessage(EventId = 311, Level = LogLevel.Debug, Message = "{Request} from {Sender} served in {Ms:F1} ms ({JitMs:F1} ms of it compiling code)")]
        public static partial void Served(ILogger logger, string request, string sender, double ms, double jitMs);

        [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "Malformed membership request from {Sender}: {Problem}")]
        public static partial void Malformed(ILogger logger, string sender, string problem);
    }
}
