using System.Collections.Concurrent;
using Farm.Daemon.Hosting;
using Farm.Daemon.Security;
using Farm.Daemon.Transport;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Rpc;
using Farm.Rpc.Client;
using Google.Protobuf;
using Pb = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Relays a module action to another node: the admin call over TCP, sealed with the cluster key as this node (the
/// peer's admin service accepts any sender with the key), its sealed reply checked: MAC, sender = that node, answers
/// this request, fresh, not replayed. Tries the node's LAN addresses in order.
/// </summary>
internal sealed class ModuleRelay(DaemonSettings settings, EnvelopeAuthenticator authenticator, TimeProvider timeProvider) : IDisposable
{
    private readonly ConcurrentDictionary<string, RpcClient> clients = new(StringComparer.Ordinal);
    private readonly ReplayGuard replies = new(maxSenders: 64);

    /// <summary>Asks <paramref name="node"/> to act on itself; never throws for an unreachable or refusing node (the result says why).</summary>
    public async Task<Pb.ModuleControlResult> ControlAsync(string node, Pb.ModuleControlQuery query, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var config = settings.Cluster.Nodes.Single(n => n.Name == node);
        var forward = query.Clone();
        forward.Nodes.Clear();
        forward.Nodes.Add(node);
        forward.AllNodes = false;
        string method = AdminMethods.ControlModule.FullName;
        var problems = new List<string>();
        foreach (var endpoint in settings.EndpointsOf(config))
        {
            var client = clients.GetOrAdd(endpoint.ToString(), _ => new RpcClient(new RpcClientOptions
            {
                Address = new Uri($"http://{PeerTransport.FormatEndpoint(endpoint)}"),
                TimeProvider = timeProvider,
                ConnectTimeout = TimeSpan.FromSeconds(2),
            }));
            var request = new Pb.ModuleControlRequest { Sealed = authenticator.Seal(method, EnvelopeKind.Request, 0, 0, forward) };
            Pb.ModuleControlReply reply;
            try
            {
                reply = await client.UnaryAsync(AdminMethods.ControlModule, request, deadline: timeProvider.GetUtcNow() + timeout, cancellationToken: cancellationToken);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                problems.Add($"{PeerTransport.FormatEndpoint(endpoint)}: {(ex.StatusCode == StatusCode.DeadlineExceeded ? "no answer in time" : ex.Detail)}");
                continue;
            }
            catch (RpcException ex)
            {
                return Failed(node, $"{node} refused: {ex.StatusCode}: {ex.Detail}");
            }

            if (authenticator.Open(method, EnvelopeKind.Reply, reply.Sealed, "reply from " + node, replies, s => s == node, request.Sealed.Seq) is { } reason)
            {
                return Failed(node, $"the reply from {node} failed authentication ({reason.Name()})");
            }

            try
            {
                var answer = Pb.ModuleControlAnswer.Parser.ParseFrom(reply.Sealed.Payload);
                return answer.Results.FirstOrDefault(r => r.Node == node) ?? Failed(node, $"{node} answered without its own result");
            }
            catch (InvalidProtocolBufferException ex)
            {
                return Failed(node, $"{node} sent an unreadable answer: {ex.Message}");
            }
        }

        return Failed(node, $"cannot reach {node}: {string.Join("; ", problems)}");
    }

    public void Dispose()
    {
        foreach (var client in clients.Values)
        {
            client.Dispose();
        }
    }

    private static Pb.ModuleControlResult Failed(string node, string error) => new() { Node = node, Error = error };
}
