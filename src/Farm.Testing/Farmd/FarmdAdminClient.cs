using System.Runtime.CompilerServices;
using Farm.Protocol;
using Farm.Protocol.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Farm.Testing.Farmd;

/// <summary>farmd's admin API over its Unix socket (plain calls, no envelope), or its gRPC port (sealed calls only).</summary>
public sealed class FarmdAdminClient : IDisposable
{
    /// <summary>Default deadline of <see cref="GetStatusAsync"/>.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(5);

    private readonly GrpcChannel channel;

    private FarmdAdminClient(GrpcChannel channel)
    {
        this.channel = channel;
        Client = new Admin.AdminClient(channel);
    }

    /// <summary>The generated gRPC client, for calls this class does not wrap.</summary>
    public Admin.AdminClient Client { get; }

    /// <summary>The channel, for other services on the same endpoint (membership, reflection, health).</summary>
    public GrpcChannel Channel => channel;

    /// <summary>A client of the admin socket at <paramref name="path"/>.</summary>
    public static FarmdAdminClient ForSocket(string path) => new(GrpcChannels.ForUnixSocket(path, new ChannelSettings()));

    /// <summary>A client of a node's gRPC port ("ADDRESS:PORT"; sealed calls only).</summary>
    public static FarmdAdminClient ForTcp(string hostAndPort) => new(GrpcChannels.ForTcp(hostAndPort, new ChannelSettings()));

    /// <summary>A deadline <paramref name="after"/> (default <see cref="DefaultDeadline"/>) from now, as gRPC takes it.</summary>
    public static DateTime Deadline(TimeSpan? after = null) => (TimeProvider.System.GetUtcNow() + (after ?? DefaultDeadline)).UtcDateTime;

    /// <summary>The node's status now.</summary>
    /// <exception cref="RpcException">The call failed (e.g. UNAVAILABLE while farmd starts).</exception>
    public async Task<NodeStatusReport> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var reply = await Client.GetStatusAsync(new AdminRequest { Query = new StatusQuery() }, deadline: Deadline(), cancellationToken: cancellationToken);
        return reply.Status ?? throw new InvalidOperationException("GetStatus over the Unix socket returned no plain status.");
    }

    /// <summary>The current status, then one per change, until <paramref name="cancellationToken"/> fires or farmd goes away.</summary>
    public async IAsyncEnumerable<NodeStatusReport> WatchStatusAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = Client.WatchStatus(new AdminRequest { Query = new StatusQuery() }, cancellationToken: cancellationToken);
        await foreach (var reply in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            if (reply.Status is { } status)
            {
                yield return status;
            }
        }
    }

    /// <summary>A module's log lines (plain), then every new batch until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<ModuleLogBatch> ModuleLogsAsync(ModuleLogsQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = Client.ModuleLogs(new ModuleLogsRequest { Query = query }, cancellationToken: cancellationToken);
        await foreach (var reply in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            if (reply.Batch is { } batch)
            {
                yield return batch;
            }
        }
    }

    /// <summary>Starts, stops or restarts a module (plain, relayed by this farmd to the nodes the query names).</summary>
    public async Task<ModuleControlAnswer> ControlModuleAsync(ModuleControlQuery query, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var reply = await Client.ControlModuleAsync(new ModuleControlRequest { Query = query }, deadline: Deadline(deadline ?? DefaultDeadline * 6), cancellationToken: cancellationToken);
        return reply.Answer ?? throw new InvalidOperationException("ControlModule over the Unix socket returned no plain answer.");
    }

    /// <summary>Drains, resumes or queries <paramref name="node"/> (relayed by this farmd over the Unix socket), as <c>farmctl drain/resume</c> do.</summary>
    public async Task<DrainAnswer> DrainAsync(string node, DrainAction action, CancellationToken cancellationToken = default)
    {
        var reply = await Client.DrainNodeAsync(
            new DrainRequest { Query = new DrainQuery { Node = node, Action = action, RequestedBy = "farm-testing" } },
            deadline: Deadline(),
            cancellationToken: cancellationToken);
        return reply.Answer ?? throw new InvalidOperationException("DrainNode over the Unix socket returned no plain answer.");
    }

    /// <summary>Applies a new cluster file's text to every node (relayed by this farmd), as <c>farmctl config apply</c> does.</summary>
    public async Task<ConfigApplyAnswer> ApplyConfigAsync(string text, string fileName, CancellationToken cancellationToken = default)
    {
        var reply = await Client.ApplyConfigAsync(
            new ConfigApplyRequest { Query = new ConfigApplyQuery { Text = text, FileName = fileName, RequestedBy = "farm-testing" } },
            deadline: Deadline(DefaultDeadline * 2),
            cancellationToken: cancellationToken);
        return reply.Answer ?? throw new InvalidOperationException("ApplyConfig over the Unix socket returned no plain answer.");
    }

    /// <inheritdoc />
    public void Dispose() => channel.Dispose();
}
