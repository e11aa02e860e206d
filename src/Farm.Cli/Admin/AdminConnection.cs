using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Farm.Protocol.Tls;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Farm.Cli.Admin;

/// <summary>
/// farmctl's side of <c>farm.v1.Admin</c>: plain calls over the local socket, sealed calls over TCP. Every failure
/// leaves as an <see cref="AdminCallException"/> whose message tells the operator what to do; cancellation by the
/// caller's token leaves as <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class AdminConnection : IDisposable
{
    private readonly AdminTarget target;
    private readonly TimeProvider timeProvider;
    private readonly GrpcChannel channel;
    private readonly Farm.Protocol.V1.Admin.AdminClient client;
    private readonly AdminEnvelopes? envelopes;
    private readonly ClusterTls? tls;

    public AdminConnection(AdminTarget target, TimeProvider? timeProvider = null)
    {
        this.target = target ?? throw new ArgumentNullException(nameof(target));
        this.timeProvider = timeProvider ?? TimeProvider.System;
        tls = target.TlsCaFile is { } caFile ? LoadTls(caFile) : null;
        var settings = new ChannelSettings { ConnectTimeout = target.Timeout, Tls = tls?.ClientFor(null) };
        channel = target.SocketPath is { } path ? GrpcChannels.ForUnixSocket(path, settings) : GrpcChannels.ForTcp(target.Display, settings);
        client = new Farm.Protocol.V1.Admin.AdminClient(channel);
        envelopes = target.IsRemote ? new AdminEnvelopes(target.Key!, target.Nodes, this.timeProvider) : null;
    }

    /// <summary>The node's status now.</summary>
    public Task<NodeStatusReport> GetStatusAsync(CancellationToken cancellationToken) =>
        UnaryAsync(
            MethodPaths.GetStatus, new StatusQuery(), (AdminRequest r, CallOptions o) => client.GetStatusAsync(r, o), NodeStatusReport.Parser, Deadline, cancellationToken,
            "answered without a status");

    /// <summary>The node's status, then every change, until <paramref name="cancellationToken"/> fires.</summary>
    public IAsyncEnumerable<NodeStatusReport> WatchStatusAsync(CancellationToken cancellationToken) =>
        StreamItemsAsync(
            MethodPaths.WatchStatus, new StatusQuery(), (AdminRequest r, CallOptions o) => client.WatchStatus(r, o), NodeStatusReport.Parser,
            "ended the watch (it is stopping?)", "sent an update without a status", cancellationToken);

    /// <summary>Who serves a client now, and why.</summary>
    public Task<WhoOwnsAnswer> WhoOwnsAsync(WhoOwnsQuery query, CancellationToken cancellationToken) =>
        UnaryAsync(MethodPaths.WhoOwns, query, (WhoOwnsRequest r, CallOptions o) => client.WhoOwnsAsync(r, o), WhoOwnsAnswer.Parser, Deadline, cancellationToken);

    /// <summary>Starts, stops or restarts a module (on other nodes through the local farmd); the call may take <paramref name="wait"/> longer than the timeout.</summary>
    public Task<ModuleControlAnswer> ControlModuleAsync(ModuleControlQuery query, TimeSpan wait, CancellationToken cancellationToken) =>
        UnaryAsync(
            MethodPaths.ControlModule, query, (ModuleControlRequest r, CallOptions o) => client.ControlModuleAsync(r, o), ModuleControlAnswer.Parser,
            () => Deadline() + wait, cancellationToken);

    /// <summary>
    /// Applies a cluster file: over the socket on every node (farmd relays it), over TCP on that node only (the text then
    /// travels encrypted with the cluster key). The call may take <paramref name="extra"/> longer than the timeout.
    /// </summary>
    public async Task<ConfigApplyAnswer> ApplyConfigAsync(ConfigApplyQuery query, TimeSpan extra, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ConfigApplyQuery? encrypted = null;
        if (envelopes is not null)
        {
            // Envelopes only authenticate; the file holds the cluster key.
            encrypted = query.Clone();
            encrypted.EncryptedText = ByteString.CopyFrom(new ConfigTextCipher(target.Key!).Encrypt(query.Text));
            encrypted.Text = "";
        }

        return await UnaryAsync(
            MethodPaths.ApplyConfig, query, (ConfigApplyRequest r, CallOptions o) => client.ApplyConfigAsync(r, o), ConfigApplyAnswer.Parser,
            () => Deadline() + extra, cancellationToken, sealedQuery: encrypted);
    }

    /// <summary>Drains or resumes a node (another one through the local farmd).</summary>
    public Task<DrainAnswer> DrainNodeAsync(DrainQuery query, CancellationToken cancellationToken) =>
        UnaryAsync(MethodPaths.DrainNode, query, (DrainRequest r, CallOptions o) => client.DrainNodeAsync(r, o), DrainAnswer.Parser, Deadline, cancellationToken);

    /// <summary>
    /// Installs, rolls back, removes or lists module bundles (on other nodes through the local farmd); the call may take
    /// <paramref name="extra"/> longer than the timeout (a reload drains the module first).
    /// </summary>
    public Task<ModulePackageAnswer> ManageModulePackageAsync(ModulePackageQuery query, TimeSpan extra, CancellationToken cancellationToken) =>
        UnaryAsync(
            MethodPaths.ManageModulePackage, query, (ModulePackageRequest r, CallOptions o) => client.ManageModulePackageAsync(r, o), ModulePackageAnswer.Parser,
            () => Deadline() + extra, cancellationToken);

    /// <summary>A module's recent log lines, then (with follow) every new batch until <paramref name="cancellationToken"/> fires.</summary>
    public IAsyncEnumerable<ModuleLogBatch> ModuleLogsAsync(ModuleLogsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return StreamItemsAsync(
            MethodPaths.ModuleLogs, query, (ModuleLogsRequest r, CallOptions o) => client.ModuleLogs(r, o), ModuleLogBatch.Parser,
            query.Follow ? "ended the stream (it is stopping?)" : null, "sent log lines without a batch", cancellationToken);
    }

    public void Dispose()
    {
        channel.Dispose();
        tls?.Dispose();
    }

    /// <summary>The operator's version of a failed call (internal for tests: some causes, like EACCES, need another user to provoke).</summary>
    internal AdminCallException Translate(Exception exception, string method)
    {
        string where = $"farmd at {target.Display}";
        if (exception is not RpcException rpc)
        {
            return new AdminCallException($"{where} did not answer within {Seconds(target.Timeout)}", exception);
        }

        switch (rpc.StatusCode)
        {
            case StatusCode.Unavailable when SocketErrorOf(rpc) is { } socketError:
                if (!target.IsRemote)
                {
                    return socketError == SocketError.AccessDenied
                        ? new AdminCallException($"permission denied on {target.SocketPath}: run as root (farmd's admin socket is root-only)", rpc)
                        : new AdminCallException(
                            $"farmd is not running on this node, or it listens elsewhere: --socket PATH (cannot connect to {target.SocketPath}: {Describe(socketError)})", rpc);
                }

                return new AdminCallException($"cannot reach {where}: {Describe(socketError)} (is farmd running there, and is the port right?)", rpc);
            case StatusCode.Unavailable:
                return new AdminCallException($"cannot reach {where}: {rpc.Status.Detail}", rpc);
            case StatusCode.DeadlineExceeded:
                return new AdminCallException($"{where} did not answer within {Seconds(target.Timeout)}", rpc);
            case StatusCode.Unauthenticated:
                return new AdminCallException(
                    $"{where} refused the call ({rpc.Status.Detail}): the key in --cluster/--key-file is not this cluster's, or the clocks differ by more than 30 s", rpc);
            case StatusCode.Unimplemented:
                return new AdminCallException($"{where} does not implement {method}: it runs an older farmd; update it", rpc);
            case StatusCode.InvalidArgument:
                return new AdminCallException(rpc.Status.Detail, rpc);
            default:
                return new AdminCallException($"{where} failed: {rpc.StatusCode}: {rpc.Status.Detail}", rpc);
        }
    }

    private static ClusterTls LoadTls(string caFile)
    {
        try
        {
            return ClusterTls.Load(caFile);
        }
        catch (InvalidOperationException ex)
        {
            throw new AdminCallException(ex.Message + " (--ca FILE, or tls.ca in --cluster)", ex);
        }
    }

    private DateTimeOffset Deadline() => timeProvider.GetUtcNow() + target.Timeout;

    /// <summary>
    /// One unary call (<see cref="SealedCallAsync"/>) and the answer in its reply (<see cref="Open"/>). Over TCP the
    /// request carries <paramref name="sealedQuery"/> when given (a query that must not travel as it is), else the query.
    /// </summary>
    private async Task<TAnswer> UnaryAsync<TQuery, TRequest, TReply, TAnswer>(
        string method,
        TQuery query,
        Func<TRequest, CallOptions, AsyncUnaryCall<TReply>> invoke,
        MessageParser<TAnswer> parser,
        Func<DateTimeOffset> deadline,
        CancellationToken cancellationToken,
        string missing = "answered without an answer",
        TQuery? sealedQuery = null)
        where TQuery : class, IMessage<TQuery>
        where TRequest : class, IAdminRequest<TQuery, TReply>, new()
        where TReply : class, IAdminReply<TAnswer>
        where TAnswer : class, IMessage<TAnswer>
    {
        ArgumentNullException.ThrowIfNull(query);
        var (reply, request) = await SealedCallAsync(
            method, sealedQuery ?? query, e => new TRequest { Sealed = e }, new TRequest { Query = query }, invoke, r => r.Sealed, deadline, cancellationToken);
        return Open(method, EnvelopeKind.Reply, reply.Answer, reply.Sealed, request, parser, missing);
    }

    /// <summary>
    /// The items of a server stream (<see cref="StreamAsync"/>), each opened (<see cref="Open"/>) and, over TCP, checked
    /// to follow the previous one; <paramref name="endedError"/> as for <see cref="StreamAsync"/>.
    /// </summary>
    private async IAsyncEnumerable<TItem> StreamItemsAsync<TQuery, TRequest, TReply, TItem>(
        string method,
        TQuery query,
        Func<TRequest, CallOptions, AsyncServerStreamingCall<TReply>> invoke,
        MessageParser<TItem> parser,
        string? endedError,
        string missing,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where TQuery : class, IMessage<TQuery>
        where TRequest : class, IAdminRequest<TQuery, TReply>, new()
        where TReply : class, IAdminReply<TItem>
        where TItem : class, IMessage<TItem>
    {
        var request = await StreamRequestAsync(method, query, e => new TRequest { Sealed = e }, new TRequest { Query = query }, cancellationToken);
        Envelope? previous = null;
        await foreach (var reply in StreamAsync(method, o => invoke(request, o), endedError, cancellationToken))
        {
            var item = Open(method, EnvelopeKind.StreamItem, reply.Answer, reply.Sealed, request.Sealed, parser, missing, previous);
            previous = reply.Sealed;
            yield return item;
        }
    }

    /// <summary>
    /// One unary call: plain over the socket; over TCP sealed for the node's current run, learnt first from a sealed
    /// RESEAL refusal (farmd answers a request that names no run with its name and run, and serves nothing).
    /// </summary>
    private async Task<(TReply Reply, Envelope? Request)> SealedCallAsync<TRequest, TReply>(
        string method,
        IMessage query,
        Func<Envelope, TRequest> wrap,
        TRequest plain,
        Func<TRequest, CallOptions, AsyncUnaryCall<TReply>> invoke,
        Func<TReply, Envelope?> sealedOf,
        Func<DateTimeOffset> deadline,
        CancellationToken cancellationToken)
    {
        if (envelopes is null)
        {
            return (await CallAsync(method, plain, invoke, deadline(), cancellationToken), null);
        }

        for (int round = 0; round < 3; round++)
        {
            var sealedRequest = envelopes.Seal(method, query);
            var reply = await CallAsync(method, wrap(sealedRequest), invoke, deadline(), cancellationToken);
            if (!envelopes.LearnRun(method, EnvelopeKind.Reply, sealedOf(reply), sealedRequest.Seq, target.Display))
            {
                return (reply, sealedRequest);
            }
        }

        throw new AdminCallException($"farmd at {target.Display} restarted while farmctl was calling it: try again");
    }

    /// <summary>The request of a stream: sealed for the node's current run (learnt first if unknown) over TCP.</summary>
    private async Task<TRequest> StreamRequestAsync<TRequest>(string method, IMessage query, Func<Envelope, TRequest> wrap, TRequest plain, CancellationToken cancellationToken)
    {
        if (envelopes is null)
        {
            return plain;
        }

        if (!envelopes.KnowsRun)
        {
            // A status query names no run yet: farmd answers with its run and serves nothing.
            await SealedCallAsync(
                MethodPaths.GetStatus, new StatusQuery(), e => new AdminRequest { Sealed = e }, new AdminRequest(),
                (r, o) => client.GetStatusAsync(r, o), r => r.Sealed, Deadline, cancellationToken);
        }

        return wrap(envelopes.Seal(method, query));
    }

    private async Task<TReply> CallAsync<TRequest, TReply>(
        string method, TRequest request, Func<TRequest, CallOptions, AsyncUnaryCall<TReply>> invoke, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        try
        {
            return await invoke(request, new CallOptions(deadline: deadline.UtcDateTime, cancellationToken: cancellationToken));
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Translate(ex, method);
        }
        catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("cancelled", ex, cancellationToken);
        }
    }

    /// <summary>
    /// The replies of a stream: no deadline (it runs until Ctrl-C), but its first message must come within the timeout.
    /// Ends quietly when <paramref name="cancellationToken"/> fires; when the server ends it, fails with
    /// <paramref name="endedError"/>, or ends quietly when that is null.
    /// </summary>
    private async IAsyncEnumerable<TReply> StreamAsync<TReply>(
        string method, Func<CallOptions, AsyncServerStreamingCall<TReply>> invoke, string? endedError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var firstMessage = new CancellationTokenSource(target.Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, firstMessage.Token);
        using var call = invoke(new CallOptions(cancellationToken: linked.Token));
        var replies = call.ResponseStream;
        while (true)
        {
            bool more;
            try
            {
                more = await replies.MoveNext(linked.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && firstMessage.IsCancellationRequested)
            {
                throw new AdminCallException($"farmd at {target.Display} did not answer within {Seconds(target.Timeout)}", ex);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is RpcException or OperationCanceledException)
            {
                throw Translate(ex, method);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is RpcException or OperationCanceledException)
            {
                yield break;
            }

            if (!more)
            {
                if (endedError is not null)
                {
                    throw new AdminCallException($"farmd at {target.Display} {endedError}");
                }

                yield break;
            }

            firstMessage.CancelAfter(Timeout.InfiniteTimeSpan);
            yield return replies.Current;
        }
    }

    /// <summary>
    /// The answer in a reply: the plain one over the socket (<paramref name="missing"/> says what is wrong without it),
    /// or the sealed one over TCP, checked against <paramref name="sealedRequest"/> (and the previous stream item).
    /// </summary>
    private T Open<T>(
        string method, EnvelopeKind kind, T? plain, Envelope? sealedReply, Envelope? sealedRequest, MessageParser<T> parser, string missing, Envelope? previous = null)
        where T : class, IMessage<T> =>
        envelopes is null
            ? plain ?? throw new AdminCallException($"farmd at {target.Display} {missing}")
            : envelopes.Open(method, kind, sealedReply, sealedRequest!.Seq, parser, target.Display, previous);

    private static SocketError? SocketErrorOf(Exception exception)
    {
        Exception? start = exception is RpcException { Status.DebugException: { } debug } ? debug : exception;
        for (Exception? e = start; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }

        return null;
    }

    private static string Describe(SocketError error) => error switch
    {
        // ENOENT on a Unix socket path surfaces as AddressNotAvailable.
        SocketError.AddressNotAvailable => "no such socket",
        SocketError.ConnectionRefused => "connection refused",
        SocketError.AccessDenied => "permission denied",
        SocketError.TimedOut => "timed out",
        SocketError.HostNotFound or SocketError.NoData => "unknown host",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "no route to host",
        _ => error.ToString(),
    };

    private static string Seconds(TimeSpan timeout) =>
        timeout < TimeSpan.FromSeconds(1) ? $"{(int)timeout.TotalMilliseconds} ms" : $"{timeout.TotalSeconds:0.###} s";
}
