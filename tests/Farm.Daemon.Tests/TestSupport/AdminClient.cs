using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;
using Farm.Rpc.Client;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>Calls a farmd's admin API over its Unix socket (plain) or TCP (sealed).</summary>
internal sealed class AdminClient : IDisposable
{
    private readonly RpcClient client;

    private AdminClient(RpcClient client) => this.client = client;

    public static AdminClient ForSocket(string path) =>
        new(new RpcClient(new RpcClientOptions { Address = new Uri("http://localhost"), UnixSocketPath = path }));

    public static AdminClient ForTcp(string hostPort) => new(new RpcClient(new RpcClientOptions { Address = new Uri("http://" + hostPort) }));

    public RpcClient Rpc => client;

    public async Task<NodeStatusReport> GetStatusAsync()
    {
        var reply = await client.UnaryAsync(AdminMethods.GetStatus, new AdminRequest { Query = new StatusQuery() }, deadline: DateTimeOffset.UtcNow.AddSeconds(5));
        return reply.Status ?? throw new AssertFailedException("GetStatus over the socket returned no plain status.");
    }

    public IAsyncEnumerable<AdminReply> WatchAsync(CancellationToken cancellationToken) =>
        client.ServerStreamingAsync(AdminMethods.WatchStatus, new AdminRequest { Query = new StatusQuery() }, cancellationToken: cancellationToken);

    /// <summary>A sealed request as an admin client named <paramref name="sender"/> would send it.</summary>
    public static AdminRequest Sealed(string key, string method, string sender, long incarnation, ulong seq) => new()
    {
        Sealed = new EnvelopeCodec(key).Seal(method, EnvelopeKind.Request, sender, incarnation, seq,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0, 0, new StatusQuery().ToByteString()),
    };

    public void Dispose() => client.Dispose();
}
