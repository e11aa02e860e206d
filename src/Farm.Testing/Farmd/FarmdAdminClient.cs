using System.Runtime.CompilerServices;
using Farm.Protocol;
using Farm.Protocol.V1;
using Farm.Rpc.Client;

namespace Farm.Testing.Farmd;

/// <summary>farmd's admin API over its Unix socket (plain calls, no envelope): GetStatus and WatchStatus.</summary>
public sealed class FarmdAdminClient : IDisposable
{
    /// <summary>Default deadline of <see cref="GetStatusAsync"/>.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(5);

    private FarmdAdminClient(RpcClient rpc) => Rpc = rpc;

    /// <summary>The underlying gRPC client, for calls this class does not wrap.</summary>
    public RpcClient Rpc { get; }

    /// <summary>A client of the admin socket at <paramref name="path"/>.</summary>
    public static FarmdAdminClient ForSocket(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new(new RpcClient(new RpcClientOptions { Address = new Uri("http://localhost"), UnixSocketPath = path }));
    }

    /// <summary>A client of a node's gRPC port (sealed calls only; see <see cref="Rpc"/>).</summary>
    public static FarmdAdminClient ForTcp(string hostAndPort) =>
        new(new RpcClient(new RpcClientOptions { Address = new Uri("http://" + hostAndPort) }));

    /// <summary>The node's status now.</summary>
    /// <exception cref="Farm.Rpc.RpcException">The call failed (e.g. UNAVAILABLE while farmd starts).</exception>
    public async Task<NodeStatusReport> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var reply = await Rpc.UnaryAsync(
            AdminMethods.GetStatus, new AdminRequest { Query = new StatusQuery() }, deadline: TimeProvider.System.GetUtcNow() + DefaultDeadline, cancellationToken: cancellationToken);
        return reply.Status ?? throw new InvalidOperationException("GetStatus over the Unix socket returned no plain status.");
    }

    /// <summary>The current status, then one per change, until <paramref name="cancellationToken"/> fires or farmd goes away.</summary>
    public async IAsyncEnumerable<NodeStatusReport> WatchStatusAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var reply in Rpc.ServerStreamingAsync(AdminMethods.WatchStatus, new AdminRequest { Query = new StatusQuery() }, cancellationToken: cancellationToken))
        {
            if (reply.Status is { } status)
            {
                yield return status;
            }
        }
    }

    /// <summary>Drains, resumes or queries <paramref name="node"/> (relayed by this farmd over the Unix socket), as <c>farmctl drain/resume</c> do.</summary>
    public async Task<DrainAnswer> DrainAsync(string node, DrainAction action, CancellationToken cancellationToken = default)
    {
        var reply = await Rpc.UnaryAsync(
            AdminMethods.DrainNode,
            new DrainRequest { Query = new DrainQuery { Node = node, Action = action, RequestedBy = "farm-testing" } },
            deadline: TimeProvider.System.GetUtcNow() + DefaultDeadline,
            cancellationToken: cancellationToken);
        return reply.Answer ?? throw new InvalidOperationException("DrainNode over the Unix socket returned no plain answer.");
    }

    /// <summary>Applies a new cluster file's text to every node (relayed by this farmd), as <c>farmctl config apply</c> does.</summary>
    public async Task<ConfigApplyAnswer> ApplyConfigAsync(string text, string fileName, CancellationToken cancellationToken = default)
    {
        var reply = await Rpc.UnaryAsync(
            AdminMethods.ApplyConfig,
            new ConfigApplyRequest { Query = new ConfigApplyQuery { Text = text, FileName = fileName, RequestedBy = "farm-testing" } },
            deadline: TimeProvider.System.GetUtcNow() + DefaultDeadline * 2,
            cancellationToken: cancellationToken);
        return reply.Answer ?? throw new InvalidOperationException("ApplyConfig over the Unix socket returned no plain answer.");
    }

    /// <inheritdoc />
    public void Dispose() => Rpc.Dispose();
}
