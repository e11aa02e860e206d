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
/// and their replay windows are kept apart from the peers'. One replay window serves every admin method: a sealed query
/// is bound to its method by the MAC, so it cannot be replayed on another.
/// </summary>
internal sealed class AdminService(StatusBuilder status, EnvelopeAuthenticator authenticator, TimeProvider timeProvider)
{
    /// <summary>Least time between two WatchStatus messages.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(100);

    private readonly ReplayGuard adminGuard = new(maxSenders: 256);

    private readonly OwnerLocator owners = new(status.Settings.Modules, status.Host);

    /// <summary>Registers GetStatus, WatchStatus and WhoOwns.</summary>
    public void Register(RpcServiceBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder
            .AddUnary(AdminMethods.GetStatus, GetStatusAsync)
            .AddServerStreaming(AdminMethods.WatchStatus, WatchStatusAsync)
            .AddUnary(AdminMethods.WhoOwns, WhoOwnsAsync);
    }

    private Task<Pb.AdminReply> GetStatusAsync(Pb.AdminRequest request, RpcCallContext context)
    {
        string method = AdminMethods.GetStatus.FullName;
        var (_, replyTo) = Authorize(method, request.Query, request.Sealed, Pb.StatusQuery.Parser, context);
        return Task.FromResult(StatusReply(method, EnvelopeKind.Reply, replyTo, status.Build()));
    }

    private async Task WatchStatusAsync(Pb.AdminRequest request, IRpcStreamWriter<Pb.AdminReply> writer, RpcCallContext context)
    {
        string method = AdminMethods.WatchStatus.FullName;
        var (_, replyTo) = Authorize(method, request.Query, request.Sealed, Pb.StatusQuery.Parser, context);
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
                    await writer.WriteAsync(StatusReply(method, EnvelopeKind.StreamItem, replyTo, report), cancellationToken);
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

    private Task<Pb.WhoOwnsReply> WhoOwnsAsync(Pb.WhoOwnsRequest request, RpcCallContext context)
    {
        string method = AdminMethods.WhoOwns.FullName;
        var (query, replyTo) = Authorize(method, request.Query, request.Sealed, Pb.WhoOwnsQuery.Parser, context);
        var answer = owners.Locate(query ?? new Pb.WhoOwnsQuery());
        return Task.FromResult(replyTo is { } seq
            ? new Pb.WhoOwnsReply { Sealed = authenticator.Seal(method, EnvelopeKind.Reply, 0, seq, answer) }
            : new Pb.WhoOwnsReply { Answer = answer });
    }

    /// <summary>
    /// Returns the query and null for a local plain call, or the opened query and the seq to answer for a sealed one;
    /// throws UNAUTHENTICATED otherwise.
    /// </summary>
    private (TQuery? Query, ulong? ReplyTo) Authorize<TQuery>(
        string method, TQuery? plain, Pb.Envelope? sealedQuery, MessageParser<TQuery> parser, RpcCallContext context)
        where TQuery : class, IMessage<TQuery>
    {
        // Farm.Rpc leaves Peer null exactly when the connection has no IP remote end: the Unix socket.
        bool local = context.Peer is null;
        if (sealedQuery is null)
        {
            if (local)
            {
                return (plain, null);
            }

            authenticator.Rejections.Record(MembershipService.SourceOf(context), RejectReason.Unauthenticated, method, "");
            throw new RpcException(StatusCode.Unauthenticated, "Admin calls over TCP must be sealed with the cluster key.");
        }

        if (authenticator.Open(method, EnvelopeKind.Request, sealedQuery, MembershipService.SourceOf(context), adminGuard, static _ => true) is { } reason)
        {
            throw new RpcException(StatusCode.Unauthenticated, "refused: " + reason.Name());
        }

        try
        {
            return (parser.ParseFrom(sealedQuery.Payload), sealedQuery.Seq);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(StatusCode.InvalidArgument, $"The sealed payload is not a {typeof(TQuery).Name}: " + ex.Message);
        }
    }

    private Pb.AdminReply StatusReply(string method, EnvelopeKind kind, ulong? replyTo, Pb.NodeStatusReport report) =>
        replyTo is { } seq
            ? new Pb.AdminReply { Sealed = authenticator.Seal(method, kind, 0, seq, report) }
            : new Pb.AdminReply { Status = report };
}
