using Google.Protobuf;
using Grpc.Net.Client;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Relays an admin action to another node: the admin call over TCP, sealed with the cluster key as this node for that
/// node's current run (the peer's admin service accepts any sender with the key), its sealed reply checked: MAC,
/// sender = that node, for us, answers this request, fresh, not replayed. Tries the node's LAN addresses in order.
/// Module actions, drains and config applies all go through <see cref="CallAsync"/>.
/// </summary>
/// <param name="roster">The cluster's nodes and their endpoints.</param>
/// <param name="authenticator">Seals as this node, opens replies.</param>
/// <param name="incarnationOf">The newest run of a node this node heard (the membership replay windows), 0 if none.</param>
/// <param name="channelFor">Connection settings to a node (TLS verifying that node).</param>
/// <param name="timeProvider">Clock for deadlines.</param>
internal sealed class AdminRelay(
    NodeRoster roster, EnvelopeAuthenticator authenticator, Func<string, long> incarnationOf, Func<string, ChannelSettings> channelFor, TimeProvider timeProvider) : IDisposable
{
    private readonly ConcurrentDictionary<string, (GrpcChannel Channel, Wire.Admin.AdminClient Client)> clients = new(StringComparer.Ordinal);
    private readonly ReplayGuard replies = new(maxSenders: 64);

    /// <summary>Asks <paramref name="node"/> to act on itself; never throws for an unreachable or refusing node (the result says why).</summary>
    public async Task<Wire.ModuleControlResult> ControlAsync(string node, Wire.ModuleControlQuery query, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var forward = query.Clone();
        forward.Nodes.Clear();
        forward.Nodes.Add(node);
        forward.AllNodes = false;
        var (answer, error) = await CallAsync(
            node, MethodPaths.ControlModule, forward, async (c, e, o) => (await c.ControlModuleAsync(new Wire.ModuleControlRequest { Sealed = e }, o)).Sealed,
            Wire.ModuleControlAnswer.Parser, timeout, cancellationToken);
        return error is not null ? new Wire.ModuleControlResult { Node = node, Error = error }
            : answer!.Results.FirstOrDefault(r => r.Node == node) ?? new Wire.ModuleControlResult { Node = node, Error = $"{node} answered without its own result" };
    }

    /// <summary>
    /// Sends <paramref name="query"/> sealed to <paramref name="node"/>'s <paramref name="method"/> (through
    /// <paramref name="call"/>, which returns the sealed reply) and returns the opened answer, or null and why not
    /// (unreachable, refused, failed authentication, unreadable); never throws for those.
    /// </summary>
    public async Task<(TAnswer? Answer, string? Error)> CallAsync<TAnswer>(
        string node,
        string method,
        IMessage query,
        Func<Wire.Admin.AdminClient, Wire.Envelope, CallOptions, Task<Wire.Envelope?>> call,
        MessageParser<TAnswer> parser,
        TimeSpan timeout,
        CancellationToken cancellationToken)
        where TAnswer : class, IMessage<TAnswer>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(parser);
        var problems = new List<string>();
        long run = incarnationOf(node);
        foreach (var endpoint in roster.EndpointsOf(node))
        {
            string address = PeerTransport.FormatEndpoint(endpoint);
            var client = clients.GetOrAdd(address, a =>
            {
                var grpcChannel = GrpcChannels.ForTcp(a, channelFor(node));
                return (grpcChannel, new Wire.Admin.AdminClient(grpcChannel));
            }).Client;

            // At most two rounds: the first may only teach us the node's current run (a sealed RESEAL refusal).
            for (int round = 0; round < 2; round++)
            {
                var sealedQuery = authenticator.SealRequest(method, node, run, 0, query);
                Wire.Envelope? reply;
                try
                {
                    reply = await call(client, sealedQuery, new CallOptions(deadline: (timeProvider.GetUtcNow() + timeout).UtcDateTime, cancellationToken: cancellationToken));
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    problems.Add($"{address}: {(ex.StatusCode == StatusCode.DeadlineExceeded ? "no answer in time" : ex.Status.Detail)}");
                    break;
                }
                catch (RpcException ex)
                {
                    return (null, $"{node} refused: {ex.StatusCode}: {ex.Status.Detail}");
                }

                var kind = EnvelopeKind.Reply;
                if (authenticator.OpenReply(method, kind, reply, "reply from " + node, replies, node, sealedQuery.Seq) is { } reason)
                {
                    return (null, $"the reply from {node} failed authentication ({reason.Name()})");
                }

                switch (reply!.Refusal)
                {
                    case Wire.Refusal.Reseal:
                        run = reply.Incarnation;
                        continue;
                    case Wire.Refusal.Protocol:
                        return (null, $"{node} speaks farm protocol {reply.Protocol}-{reply.MaxProtocol}, this node {authenticator.Protocols}: upgrade the older node");
                }

                try
                {
                    return (parser.ParseFrom(reply.Payload), null);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    return (null, $"{node} sent an unreadable answer: {ex.Message}");
                }
            }

            if (problems.Count == 0 || !problems[^1].StartsWith(address, StringComparison.Ordinal))
            {
                return (null, $"{node} asked twice for its current run: it restarted meanwhile, try again");
            }
        }

        return (null, $"cannot reach {node}: {string.Join("; ", problems)}");
    }

    public void Dispose()
    {
        foreach (var (grpcChannel, _) in clients.Values)
        {
            grpcChannel.Dispose();
        }
    }
}
