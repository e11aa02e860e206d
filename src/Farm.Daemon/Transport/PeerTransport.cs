using System.Net;
using Farm.Cluster.Membership;
using Farm.Daemon.Membership;
using Farm.Daemon.Security;
using Farm.Protocol.Security;
using Farm.Rpc;
using Farm.Rpc.Client;
using Microsoft.Extensions.Logging;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Transport;

/// <summary>
/// Sends membership requests over gRPC: one <see cref="RpcClient"/> per peer per LAN address, every request sealed,
/// every reply opened before the manager sees it. Sends are queued to the thread pool so the heartbeat thread never
/// waits on the network; completions take the host's lock briefly.
/// </summary>
internal sealed partial class PeerTransport : IPeerTransport, IDisposable
{
    private readonly Dictionary<(string Peer, int Lan), RpcClient> clients = [];
    private readonly MembershipHost host;
    private readonly EnvelopeAuthenticator authenticator;
    private readonly ReplayGuard guard;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly CancellationTokenSource shutdown = new();
    private int disposed;

    /// <summary>Creates clients for every peer address; connections open lazily.</summary>
    /// <param name="peers">Every other node with its endpoint per LAN (index = LAN).</param>
    /// <param name="host">Where replies and failures go.</param>
    /// <param name="authenticator">Seals requests and opens replies.</param>
    /// <param name="guard">Replay windows of membership peers (shared with the server side: one seq stream per peer).</param>
    /// <param name="timeProvider">Clock for deadlines.</param>
    /// <param name="logger">Logger.</param>
    public PeerTransport(
        IReadOnlyDictionary<string, IReadOnlyList<IPEndPoint>> peers,
        MembershipHost host,
        EnvelopeAuthenticator authenticator,
        ReplayGuard guard,
        TimeProvider timeProvider,
        ILogger<PeerTransport> logger)
    {
        ArgumentNullException.ThrowIfNull(peers);
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.authenticator = authenticator ?? throw new ArgumentNullException(nameof(authenticator));
        this.guard = guard ?? throw new ArgumentNullException(nameof(guard));
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        foreach (var (peer, endpoints) in peers)
        {
            for (int lan = 0; lan < endpoints.Count; lan++)
            {
                clients[(peer, lan)] = new RpcClient(new RpcClientOptions
                {
                    Address = new Uri($"http://{FormatEndpoint(endpoints[lan])}"),
                    TimeProvider = timeProvider,

                    // A peer that does not accept within the detection timeout is down anyway.
                    ConnectTimeout = host.Options.DetectionTimeout,
                });
            }
        }
    }

    /// <inheritdoc />
    public void Send(OutboundRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        // The synchronous start of an HTTP/2 request (framing, connection pool lookup) must not run on the heartbeat thread.
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Self.SendAsync(state.Request), (Self: this, Request: request), preferLocal: false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        shutdown.Cancel();
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        // The token source stays undisposed: sends still completing may read its token.
    }

    internal static string FormatEndpoint(IPEndPoint endpoint) =>
        endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";

    private async Task SendAsync(OutboundRequest request)
    {
        try
        {
            if (!clients.TryGetValue((request.To, request.Lan), out var client))
            {
                Log.NoAddress(logger, request.To, request.Lan);
                host.HandleFailure(request.CorrelationId);
                return;
            }

            var method = MessageMapper.MethodOf(request.Message);
            Wire.Envelope sealedRequest = authenticator.Seal(method.FullName, EnvelopeKind.Request, (uint)request.Lan, 0, MessageMapper.ToProto(request.Message));

            // Heartbeats are useless once the next two went out; view changes get the detection timeout.
            TimeSpan timeout = request.Message is HeartbeatRequest ? host.Options.HeartbeatInterval * 2 : host.Options.DetectionTimeout;
            Wire.Envelope reply = await client.UnaryAsync(method, sealedRequest, deadline: timeProvider.GetUtcNow() + timeout, cancellationToken: shutdown.Token);

            if (authenticator.Open(method.FullName, EnvelopeKind.Reply, reply, "reply from " + request.To, guard,
                    sender => string.Equals(sender, request.To, StringComparison.Ordinal), sealedRequest.Seq) is not null)
            {
                host.HandleFailure(request.CorrelationId); // refused and counted: as if nothing came back
                return;
            }

            host.HandleReply(request.CorrelationId, MessageMapper.ParseReply(method.FullName, reply.Payload));
        }
        catch (RpcException ex)
        {
            if (!shutdown.IsCancellationRequested)
            {
                Log.RequestFailed(logger, request.Message.GetType().Name, request.To, request.Lan, ex.StatusCode, ex.Detail);
                host.HandleFailure(request.CorrelationId);
            }
        }
        catch (FormatException ex)
        {
            Log.MalformedReply(logger, request.To, ex.Message);
            host.HandleFailure(request.CorrelationId);
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
    }
}
