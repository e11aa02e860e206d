using Farm.Daemon.Membership;
using Farm.Daemon.Modules;
using Farm.Daemon.Security;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Rpc;
using Farm.Rpc.Server;
using Google.Protobuf;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Serves <c>farm.v1.Admin</c>. Over the Unix socket plain queries are answered (the socket's mode 0600 authorizes);
/// over TCP only sealed ones, with sealed replies. Admin clients may use any sender name: the key authorizes them,
/// and their replay windows are kept apart from the peers'. One replay window serves every admin method: a sealed query
/// is bound to its method by the MAC, so it cannot be replayed on another.
/// </summary>
internal sealed class AdminService(
    StatusBuilder status,
    EnvelopeAuthenticator authenticator,
    TimeProvider timeProvider,
    ModuleHost? modules = null,
    ModuleControl? control = null,
    DrainControl? drain = null,
    ConfigApplyControl? configApply = null)
{
    /// <summary>Most log lines in one ModuleLogs message.</summary>
    public const int MaxLinesPerBatch = 500;

    /// <summary>Least time between two WatchStatus messages.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(100);

    private readonly ReplayGuard adminGuard = new(maxSenders: 256);

    private readonly OwnerLocator owners = new(status.Settings.Modules, status.Host);

    /// <summary>Registers every method of <c>farm.v1.Admin</c>.</summary>
    public void Register(RpcServiceBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder
            .AddUnary(AdminMethods.GetStatus, GetStatusAsync)
            .AddServerStreaming(AdminMethods.WatchStatus, WatchStatusAsync)
            .AddUnary(AdminMethods.WhoOwns, WhoOwnsAsync)
            .AddUnary(AdminMethods.ControlModule, ControlModuleAsync)
            .AddServerStreaming(AdminMethods.ModuleLogs, ModuleLogsAsync)
            .AddUnary(AdminMethods.ApplyConfig, ApplyConfigAsync)
            .AddUnary(AdminMethods.DrainNode, DrainNodeAsync);
    }

    private Task<Wire.AdminReply> GetStatusAsync(Wire.AdminRequest request, RpcCallContext context)
    {
        string method = AdminMethods.GetStatus.FullName;
        var (_, replyTo) = Authorize(method, request.Query, request.Sealed, Wire.StatusQuery.Parser, context);
        return Task.FromResult(StatusReply(method, EnvelopeKind.Reply, replyTo, status.Build()));
    }

    private async Task WatchStatusAsync(Wire.AdminRequest request, IRpcStreamWriter<Wire.AdminReply> writer, RpcCallContext context)
    {
        string method = AdminMethods.WatchStatus.FullName;
        var (_, replyTo) = Authorize(method, request.Query, request.Sealed, Wire.StatusQuery.Parser, context);
        CancellationToken cancellationToken = context.CancellationToken;
        Wire.NodeStatusReport? lastKey = null;
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

    private Task<Wire.WhoOwnsReply> WhoOwnsAsync(Wire.WhoOwnsRequest request, RpcCallContext context)
    {
        string method = AdminMethods.WhoOwns.FullName;
        var (query, replyTo) = Authorize(method, request.Query, request.Sealed, Wire.WhoOwnsQuery.Parser, context);
        var answer = owners.Locate(query ?? new Wire.WhoOwnsQuery());
        return Task.FromResult(replyTo is { } seq
            ? new Wire.WhoOwnsReply { Sealed = authenticator.Seal(method, EnvelopeKind.Reply, 0, seq, answer) }
            : new Wire.WhoOwnsReply { Answer = answer });
    }

    private async Task<Wire.ModuleControlReply> ControlModuleAsync(Wire.ModuleControlRequest request, RpcCallContext context)
    {
        string method = AdminMethods.ControlModule.FullName;
        var (query, replyTo) = Authorize(method, request.Query, request.Sealed, Wire.ModuleControlQuery.Parser, context);
        if (control is null)
        {
            throw new RpcException(StatusCode.InvalidArgument, "this node has no modules");
        }

        // Relaying to other nodes only for the local root-only socket: a sealed call never fans out (no loops).
        var answer = await control.HandleAsync(query ?? new Wire.ModuleControlQuery(), mayRelay: replyTo is null, context.CancellationToken);
        return replyTo is { } seq
            ? new Wire.ModuleControlReply { Sealed = authenticator.Seal(method, EnvelopeKind.Reply, 0, seq, answer) }
            : new Wire.ModuleControlReply { Answer = answer };
    }

    private async Task<Wire.ConfigApplyReply> ApplyConfigAsync(Wire.ConfigApplyRequest request, RpcCallContext context)
    {
        string method = AdminMethods.ApplyConfig.FullName;
        var (query, replyTo) = Authorize(method, request.Query, request.Sealed, Wire.ConfigApplyQuery.Parser, context);
        var handler = configApply ?? throw new RpcException(StatusCode.Unimplemented, "this farmd cannot apply cluster files");

        // Only the local root-only socket fans out to every node; a sealed call applies on this node alone (no loops).
        var answer = await handler.HandleAsync(query ?? new Wire.ConfigApplyQuery(), local: replyTo is null, context.CancellationToken);
        return replyTo is { } seq
            ? new Wire.ConfigApplyReply { Sealed = authenticator.Seal(method, EnvelopeKind.Reply, 0, seq, answer) }
            : new Wire.ConfigApplyReply { Answer = answer };
    }

    private async Task<Wire.DrainReply> DrainNodeAsync(Wire.DrainRequest request, RpcCallContext context)
    {
        string method = AdminMethods.DrainNode.FullName;
        var (query, replyTo) = Authorize(method, request.Query, request.Sealed, Wire.DrainQuery.Parser, context);
        var handler = drain ?? throw new RpcException(StatusCode.Unimplemented, "this farmd cannot drain");
        var answer = await handler.HandleAsync(query ?? new Wire.DrainQuery(), mayRelay: replyTo is null, context.CancellationToken);
        return replyTo is { } seq
            ? new Wire.DrainReply { Sealed = authenticator.Seal(method, EnvelopeKind.Reply, 0, seq, answer) }
            : new Wire.DrainReply { Answer = answer };
    }

    private async Task ModuleLogsAsync(Wire.ModuleLogsRequest request, IRpcStreamWriter<Wire.ModuleLogsReply> writer, RpcCallContext context)
    {
        string method = AdminMethods.ModuleLogs.FullName;
        var (query, replyTo) = Authorize(method, request.Query, request.Sealed, Wire.ModuleLogsQuery.Parser, context);
        query ??= new Wire.ModuleLogsQuery();
        var buffer = modules?.LogsOf(query.Module)
            ?? throw new RpcException(StatusCode.InvalidArgument, ModuleReports.UnknownModule(query.Module, modules?.Modules ?? []));
        CancellationToken cancellationToken = context.CancellationToken;
        var tail = buffer.Tail(query.Tail <= 0 ? buffer.Capacity : query.Tail);
        long last = tail.Count > 0 ? tail[^1].Seq : buffer.LastSeq;
        try
        {
            for (int i = 0; i < tail.Count || i == 0; i += MaxLinesPerBatch)
            {
                await writer.WriteAsync(LogsReply(method, replyTo, buffer.Module, tail.Skip(i).Take(MaxLinesPerBatch), 0), cancellationToken);
            }

            while (query.Follow && !cancellationToken.IsCancellationRequested)
            {
                await buffer.WaitAsync(last, cancellationToken);
                var (lines, dropped) = buffer.Since(last, MaxLinesPerBatch);
                if (lines.Count == 0)
                {
                    continue;
                }

                last = lines[^1].Seq;
                await writer.WriteAsync(LogsReply(method, replyTo, buffer.Module, lines, dropped), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the client went away
        }
    }

    private Wire.ModuleLogsReply LogsReply(string method, ulong? replyTo, string module, IEnumerable<ModuleLogLine> lines, long dropped)
    {
        var batch = new Wire.ModuleLogBatch { Node = authenticator.Self, Module = module, Dropped = dropped };
        foreach (var line in lines)
        {
            batch.Lines.Add(new Wire.ModuleLogLine { Seq = line.Seq, UnixMs = line.Time.ToUnixTimeMilliseconds(), Level = LevelName(line.Level), Text = line.Text });
        }

        return replyTo is { } seq
            ? new Wire.ModuleLogsReply { Sealed = authenticator.Seal(method, EnvelopeKind.StreamItem, 0, seq, batch) }
            : new Wire.ModuleLogsReply { Batch = batch };
    }

    private static string LevelName(Microsoft.Extensions.Logging.LogLevel level) => level switch
    {
        Microsoft.Extensions.Logging.LogLevel.Trace => "trace",
        Microsoft.Extensions.Logging.LogLevel.Debug => "debug",
        Microsoft.Extensions.Logging.LogLevel.Information => "info",
        Microsoft.Extensions.Logging.LogLevel.Warning => "warning",
        Microsoft.Extensions.Logging.LogLevel.Error => "error",
        _ => "critical",
    };

    /// <summary>
    /// Returns the query and null for a local plain call, or the opened query and the seq to answer for a sealed one;
    /// throws UNAUTHENTICATED otherwise.
    /// </summary>
    private (TQuery? Query, ulong? ReplyTo) Authorize<TQuery>(
        string method, TQuery? plain, Wire.Envelope? sealedQuery, MessageParser<TQuery> parser, RpcCallContext context)
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

    private Wire.AdminReply StatusReply(string method, EnvelopeKind kind, ulong? replyTo, Wire.NodeStatusReport report) =>
        replyTo is { } seq
            ? new Wire.AdminReply { Sealed = authenticator.Seal(method, kind, 0, seq, report) }
            : new Wire.AdminReply { Status = report };
}
