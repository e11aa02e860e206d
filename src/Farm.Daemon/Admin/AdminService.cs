using Farm.Daemon.Membership;
using Farm.Daemon.Security;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Rpc;
using Farm.Rpc.Server;
using Google.Protobuf;
using Pb = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Serves <c>farm.v1.Admin</c>. Over the Unix socket plain queries are answered (the socket's mode 0600 authorizes);
/// over TCP only sealed ones, with sealed replies. Admin clients may use any sender name: the key authorizes them,
/// and their replay windows are kept apart from the peers'.
/// </summary>
internal sealed class AdminService(StatusBuilder status, EnvelopeAuthenticator authenticator, TimeProvider timeProvider)
{
    /// <summary>Least time between two WatchStatus messages.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(100);

    private readonly ReplayGuard adminGuard = new(maxSenders: 256);

    /// <summary>Registers GetStatus and WatchStatus.</summary>
    public void Register(RpcServiceBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder
            .AddUnary(AdminMethods.GetStatus, GetStatusAsync)
            .AddServerStreaming(AdminMethods.WatchStatus, WatchStatusAsync);
    }

    private Task<Pb.AdminReply> GetStatusAsync(Pb.AdminRequest request, RpcCallContext context)
    {
        ulong? replyTo = Authorize(AdminMethods.GetStatus.FullName, request, context);
        return Task.FromResult(Reply(AdminMethods.GetStatus.FullName, EnvelopeKind.Reply, replyTo, status.Build()));
    }

    private async Task WatchStatusAsync(Pb.AdminRequest request, IRpcStreamWriter<Pb.AdminReply> writer, RpcCallContext context)
    {
        string method = AdminMethods.WatchStatus.FullName;
        ulong? replyTo = Authorize(method, request, context);
        CancellationToken cancellationToken = context.CancellationToken;
        Pb.NodeStatusReport? lastKey = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var report = status.Build();
                var key = StatusBuilder.ChangeKey(report);
                if (!key.Equals(lastKey))
                {
                    await writer.WriteAsync(Reply(method, EnvelopeKind.StreamItem, replyTo, report), cancellationToken);
                    lastKey = key;
                }

                await Task.Delay(WatchInterval, timeProvider, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the client went away or its deadline passed
        }
    }

    /// <summary>Returns null for a local plain call, or the seq to answer for a sealed one; throws UNAUTHENTICATED otherwise.</summary>
    private ulong? Authorize(string method, Pb.AdminRequest request, RpcCallContext context)
    {
        // Farm.Rpc leaves Peer null exactly when the connection has no IP remote end: the Unix socket.
        bool local = context.Peer is null;
        if (request.Sealed is null)
        {
            if (local)
            {
                return null;
            }

            authenticator.Rejections.Record(MembershipService.SourceOf(context), RejectReason.Unauthenticated, method, "");
            throw new RpcException(StatusCode.Unauthenticated, "Admin calls over TCP must be sealed with the cluster key.");
        }

        if (authenticator.Open(method, EnvelopeKind.Request, request.Sealed, MembershipService.SourceOf(context), adminGuard, static _ => true) is { } reason)
        {
            throw new RpcException(StatusCode.Unauthenticated, "refused: " + reason.Name());
        }

        try
        {
            _ = Pb.StatusQuery.Parser.ParseFrom(request.Sealed.Payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(StatusCode.InvalidArgument, "The sealed payload is not a StatusQuery: " + ex.Message);
        }

        return request.Sealed.Seq;
    }

    private Pb.AdminReply Reply(string method, EnvelopeKind kind, ulong? replyTo, Pb.NodeStatusReport report) =>
        replyTo is { } seq
            ? new Pb.AdminReply { Sealed = authenticator.Seal(method, kind, 0, seq, report) }
            : new Pb.AdminReply { Status = report };
}
