using System.Collections.Concurrent;
using Farm.Daemon.Hosting;
using Farm.Daemon.Security;
using Farm.Daemon.Transport;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Rpc;
using Farm.Rpc.Client;
using Google.Protobuf;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Relays an admin action to another node: the admin call over TCP, sealed with the cluster key as this node (the
/// peer's admin service accepts any sender with the key), its sealed reply checked: MAC, sender = that node, answers
/// this request, fresh, not replayed. Tries the node's LAN addresses in order. Module actions, drains and config
/// applies all go through <see cref="CallAsync"/>.
/// </summary>
internal sealed class AdminRelay(DaemonSettings settings, EnvelopeAuthenticator authenticator, TimeProvider timeProvider) : IDisposable
{
    private readonly ConcurrentDictionary<string, RpcClient> clients = new(StringComparer.Ordinal);
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
            node, AdminMethods.ControlModule, forward, e => new Wire.ModuleControlRequest { Sealed = e }, r => r.Sealed, Wire.ModuleControlAnswer.Parser, timeout, cancellationToken);
        return error is not null ? new Wire.ModuleControlResult { Node = node, Error = error }
            : answer!.Results.FirstOrDefault(r => r.Node == node) ?? new Wire.ModuleControlResult { Node = node, Error = $"{node} answered without its own result" };
    }

    /// <summary>
    /// Sends <paramref name="query"/> sealed to <paramref name="node"/>'s <paramref name="method"/> and returns the opened
    /// answer, or null and why not (unreachable, refused, failed authentication, unreadable); never throws for those.
    /// </summary>
    public async Task<(TAnswer? Answer, string? Error)> CallAsync<TRequest, TReply, TAnswer>(
        string node,
        RpcMethod<TRequest, TReply> method,
        IMessage query,
        Func<Wire.Envelope, TRequest> request,
        Func<TReply, Wire.Envelope?> sealedReply,
        MessageParser<TAnswer> parser,
        TimeSpan timeout,
        CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>
        where TReply : class, IMessage<TReply>
        where TAnswer : class, IMessage<TAnswer>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sealedReply);
        ArgumentNullException.ThrowIfNull(parser);
        var config = settings.Cluster.Nodes.Single(n => n.Name == node);
        string name = method.FullName;
        var problems = new List<string>();
        foreach (var endpoint in settings.EndpointsOf(config))
        {
            var client = clients.GetOrAdd(endpoint.ToString(), _ => new RpcClient(new RpcClientOptions
            {
                Address = new Uri($"http://{PeerTransport.FormatEndpoint(endpoint)}"),
                TimeProvider = timeProvider,
                ConnectTimeout = TimeSpan.FromSeconds(2),
            }));
            var sealedQuery = authenticator.Seal(name, EnvelopeKind.Request, 0, 0, query);
            TReply reply;
            try
            {
                reply = await client.UnaryAsync(method, request(sealedQuery), deadline: timeProvider.GetUtcNow() + timeout, cancellationToken: cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                problems.Add($"{PeerTransport.FormatEndpoint(endpoint)}: {(ex.StatusCode == StatusCode.DeadlineExceeded ? "no answer in time" : ex.Detail)}");
                continue;
            }
            catch (RpcException ex)
            {
                return (null, $"{node} refused: {ex.StatusCode}: {ex.Detail}");
            }

            if (authenticator.Open(name, EnvelopeKind.Reply, sealedReply(reply), "reply from " + node, replies, s => s == node, sealedQuery.Seq) is { } reason)
            {
                return (null, $"the reply from {node} failed authentication ({reason.Name()})");
            }

            try
            {
                return (parser.ParseFrom(sealedReply(reply)!.Payload), null);
            }
            catch (InvalidProtocolBufferException ex)
            {
                return (null, $"{node} sent an unreadable answer: {ex.Message}");
            }
        }

        return (null, $"cannot reach {node}: {string.Join("; ", problems)}");
    }

    public void Dispose()
    {
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
    }
}
