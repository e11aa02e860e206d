using Google.Protobuf;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Serves <c>farm.v1.Admin</c>. Over the Unix socket plain queries are answered (the socket's mode 0600 authorizes);
/// over TCP only sealed ones, sealed for this node and its current run, with sealed replies. Admin clients may use any
/// sender name: the key authorizes them, and their replay windows are kept apart from the peers'. One replay window
/// serves every admin method: a sealed query is bound to its method by the MAC, so it cannot be replayed on another.
/// </summary>
internal sealed class AdminService(
    StatusBuilder status,
    EnvelopeAuthenticator authenticator,
    TimeProvider timeProvider,
    ModuleHost? modules = null,
    ModuleControl? control = null,
    DrainControl? drain = null,
    ConfigApplyControl? configApply = null,
    ModulePackageControl? packages = null) : Wire.Admin.AdminBase
{
    /// <summary>Most log lines in one ModuleLogs message.</summary>
    public const int MaxLinesPerBatch = 500;

    /// <summary>Least time between two WatchStatus messages.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(100);

    private readonly ReplayGuard adminGuard = new(maxSenders: 256);

    private readonly OwnerLocator owners = new(status.Modules, status.Host);

    public override Task<Wire.AdminReply> GetStatus(Wire.AdminRequest request, ServerCallContext context) =>
        AnswerAsync(request, Wire.StatusQuery.Parser, context, (_, _) => Task.FromResult(status.Build()));

    public override Task WatchStatus(Wire.AdminRequest request, IServerStreamWriter<Wire.AdminReply> responseStream, ServerCallContext context) =>
        StreamAsync(request, Wire.StatusQuery.Parser, context, responseStream,
            async (Wire.StatusQuery _, Func<Wire.NodeStatusReport, Task> write, CancellationToken cancellationToken) =>
            {
                await foreach (var report in status.WatchAsync(timeProvider, WatchInterval, cancellationToken: cancellationToken))
                {
                    await write(report);
                }
            });

    public override Task<Wire.WhoOwnsReply> WhoOwns(Wire.WhoOwnsRequest request, ServerCallContext context) =>
        AnswerAsync(request, Wire.WhoOwnsQuery.Parser, context, (query, _) => Task.FromResult(owners.Locate(query)));

    // Relaying to other nodes only for the local root-only socket: a sealed call never fans out (no loops).
    public override Task<Wire.ModuleControlReply> ControlModule(Wire.ModuleControlRequest request, ServerCallContext context) =>
        AnswerAsync(request, Wire.ModuleControlQuery.Parser, context, (query, local) =>
            Need(control, StatusCode.InvalidArgument, "this node has no modules").HandleAsync(query, mayRelay: local, context.CancellationToken));

    // Only the local root-only socket fans out to every node; a sealed call applies on this node alone (no loops).
    public override Task<Wire.ConfigApplyReply> ApplyConfig(Wire.ConfigApplyRequest request, ServerCallContext context) =>
        AnswerAsync(request, Wire.ConfigApplyQuery.Parser, context, (query, local) =>
            Need(configApply, StatusCode.Unimplemented, "this farmd cannot apply cluster files").HandleAsync(query, local, context.CancellationToken));

    // Only the local root-only socket fans out; a sealed call acts on this node alone (no loops).
    public override Task<Wire.ModulePackageReply> ManageModulePackage(Wire.ModulePackageRequest request, ServerCallContext context) =>
        AnswerAsync(request, Wire.ModulePackageQuery.Parser, context, (query, local) =>
            Need(packages, StatusCode.Unimplemented, "this farmd cannot install modules").HandleAsync(query, mayRelay: local, context.CancellationToken));

    public override Task<Wire.DrainReply> DrainNode(Wire.DrainRequest request, ServerCallContext context) =>
        AnswerAsync(request, Wire.DrainQuery.Parser, context, (query, local) =>
            Need(drain, StatusCode.Unimplemented, "this farmd cannot drain").HandleAsync(query, mayRelay: local, context.CancellationToken));

    public override Task ModuleLogs(Wire.ModuleLogsRequest request, IServerStreamWriter<Wire.ModuleLogsReply> responseStream, ServerCallContext context) =>
        StreamAsync(request, Wire.ModuleLogsQuery.Parser, context, responseStream,
            async (Wire.ModuleLogsQuery query, Func<Wire.ModuleLogBatch, Task> write, CancellationToken cancellationToken) =>
            {
                var buffer = modules?.LogsOf(query.Module)
                    ?? throw new RpcException(new Status(StatusCode.InvalidArgument, ModuleReports.UnknownModule(query.Module, modules?.Modules ?? [])));
                var tail = buffer.Tail(query.Tail <= 0 ? buffer.Capacity : query.Tail);
                long last = tail.Count > 0 ? tail[^1].Seq : buffer.LastSeq;
                for (int i = 0; i < tail.Count || i == 0; i += MaxLinesPerBatch)
                {
                    await write(Batch(buffer.Module, tail.Skip(i).Take(MaxLinesPerBatch), 0));
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
                    await write(Batch(buffer.Module, lines, dropped));
                }
            });

    /// <summary>A part this farmd may lack (no modules, no config apply...): without it the call fails with <paramref name="code"/>.</summary>
    private static T Need<T>(T? part, StatusCode code, string missing)
        where T : class =>
        part ?? throw new RpcException(new Status(code, missing));

    private Wire.ModuleLogBatch Batch(string module, IEnumerable<ModuleLogLine> lines, long dropped)
    {
        var batch = new Wire.ModuleLogBatch { Node = authenticator.Self, Module = module, Dropped = dropped };
        foreach (var line in lines)
        {
            batch.Lines.Add(new Wire.ModuleLogLine { Seq = line.Seq, UnixMs = line.Time.ToUnixTimeMilliseconds(), Level = line.LevelName, Text = line.Text });
        }

        return batch;
    }

    /// <summary>
    /// A local plain call gives its query; a sealed one over TCP its opened query and request envelope, or a sealed
    /// refusal to answer with (first contact, a previous run of this node, another protocol); anything else throws.
    /// </summary>
    private AdminCall<TQuery> Authorize<TQuery>(
        TQuery? plain, Wire.Envelope? sealedQuery, MessageParser<TQuery> parser, ServerCallContext context, EnvelopeKind answerKind = EnvelopeKind.Reply)
        where TQuery : class, IMessage<TQuery>
    {
        string method = context.Method;
        if (sealedQuery is null)
        {
            if (CallSource.IsLocal(context))
            {
                return new AdminCall<TQuery>(plain, null, null);
            }

            authenticator.Rejections.Record(CallSource.Of(context), RejectReason.Unauthenticated, method, "");
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Admin calls over TCP must be sealed with the cluster key."));
        }

        var verdict = authenticator.OpenRequest(method, sealedQuery, CallSource.Of(context), adminGuard, static _ => true);
        if (verdict.Answer != Wire.Refusal.None)
        {
            return new AdminCall<TQuery>(null, null, authenticator.SealReply(method, answerKind, sealedQuery, null, verdict.Answer));
        }

        if (verdict.Reason is { } reason)
        {
            throw CallSource.Refused(reason);
        }

        try
        {
            return new AdminCall<TQuery>(parser.ParseFrom(sealedQuery.Payload), sealedQuery, null);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"The sealed payload is not a {typeof(TQuery).Name}: " + ex.Message));
        }
    }

    /// <summary>
    /// A unary admin call: authorized (<see cref="Authorize"/>), answered by <paramref name="answer"/> (with whether the
    /// call came over the local socket), the answer sealed for the caller over TCP; a refusal goes back instead.
    /// </summary>
    private async Task<TReply> AnswerAsync<TQuery, TAnswer, TReply>(
        Wire.IAdminRequest<TQuery, TReply> request,
        MessageParser<TQuery> parser,
        ServerCallContext context,
        Func<TQuery, bool, Task<TAnswer>> answer)
        where TQuery : class, IMessage<TQuery>, new()
        where TAnswer : class, IMessage<TAnswer>
        where TReply : class, Wire.IAdminReply<TAnswer>, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = Authorize(request.Query, request.Sealed, parser, context);
        if (call.Refusal is { } refusal)
        {
            return new TReply { Sealed = refusal };
        }

        var result = await answer(call.Query ?? new TQuery(), call.Request is null);
        return call.Request is { } sealedRequest
            ? new TReply { Sealed = authenticator.SealReply(context.Method, EnvelopeKind.Reply, sealedRequest, result) }
            : new TReply { Answer = result };
    }

    /// <summary>
    /// A server-streaming admin call: authorized (<see cref="Authorize"/>), then <paramref name="produce"/> writes its
    /// items through the function it is given, each sealed for the caller over TCP, until it returns or the client goes
    /// away (or its deadline passes); a refusal goes back as the only message instead.
    /// </summary>
    private async Task StreamAsync<TQuery, TItem, TReply>(
        Wire.IAdminRequest<TQuery, TReply> request,
        MessageParser<TQuery> parser,
        ServerCallContext context,
        IServerStreamWriter<TReply> responseStream,
        Func<TQuery, Func<TItem, Task>, CancellationToken, Task> produce)
        where TQuery : class, IMessage<TQuery>, new()
        where TItem : class, IMessage<TItem>
        where TReply : class, Wire.IAdminReply<TItem>, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        var call = Authorize(request.Query, request.Sealed, parser, context, EnvelopeKind.StreamItem);
        if (call.Refusal is { } refusal)
        {
            await responseStream.WriteAsync(new TReply { Sealed = refusal });
            return;
        }

        CancellationToken cancellationToken = context.CancellationToken;
        Task Write(TItem item) => responseStream.WriteAsync(
            call.Request is { } sealedRequest
                ? new TReply { Sealed = authenticator.SealReply(context.Method, EnvelopeKind.StreamItem, sealedRequest, item) }
                : new TReply { Answer = item },
            cancellationToken);
        try
        {
            await produce(call.Query ?? new TQuery(), Write, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the client went away or its deadline passed
        }
    }

    /// <summary>An authorized admin call: its query, the sealed request to answer (null over the socket), or a refusal to send instead.</summary>
    private readonly record struct AdminCall<TQuery>(TQuery? Query, Wire.Envelope? Request, Wire.Envelope? Refusal);
}
