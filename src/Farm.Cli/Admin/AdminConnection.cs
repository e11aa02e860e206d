using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Farm.Rpc;
using Farm.Rpc.Client;
using Google.Protobuf;

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
    private readonly RpcClient client;
    private readonly AdminEnvelopes? envelopes;

    public AdminConnection(AdminTarget target, TimeProvider? timeProvider = null)
    {
        this.target = target ?? throw new ArgumentNullException(nameof(target));
        this.timeProvider = timeProvider ?? TimeProvider.System;
        client = new RpcClient(new RpcClientOptions
        {
            Address = target.IsRemote ? new Uri($"http://{target.Display}") : new Uri("http://localhost"),
            UnixSocketPath = target.SocketPath,
            ConnectTimeout = target.Timeout,
            TimeProvider = this.timeProvider,
        });
        envelopes = target.IsRemote ? new AdminEnvelopes(target.Key!, target.Nodes, this.timeProvider) : null;
    }

    /// <summary>The node's status now.</summary>
    public async Task<NodeStatusReport> GetStatusAsync(CancellationToken cancellationToken)
    {
        var method = AdminMethods.GetStatus;
        var request = StatusRequest(method.FullName);
        var reply = await CallAsync(method, request, Deadline(), cancellationToken);
        return Open(method.FullName, EnvelopeKind.Reply, reply.Status, reply.Sealed, request.Sealed, NodeStatusReport.Parser, "answered without a status");
    }

    /// <summary>The node's status, then every change, until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<NodeStatusReport> WatchStatusAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var method = AdminMethods.WatchStatus;
        var request = StatusRequest(method.FullName);
        Envelope? previous = null;
        await foreach (var reply in StreamAsync(method, request, "ended the watch (it is stopping?)", cancellationToken))
        {
            var status = Open(method.FullName, EnvelopeKind.StreamItem, reply.Status, reply.Sealed, request.Sealed, NodeStatusReport.Parser, "sent an update without a status", previous);
            previous = reply.Sealed;
            yield return status;
        }
    }

    /// <summary>Who serves a client now, and why.</summary>
    public async Task<WhoOwnsAnswer> WhoOwnsAsync(WhoOwnsQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var method = AdminMethods.WhoOwns;
        var request = envelopes is null ? new WhoOwnsRequest { Query = query } : new WhoOwnsRequest { Sealed = envelopes.Seal(method.FullName, query) };
        var reply = await CallAsync(method, request, Deadline(), cancellationToken);
        return Open(method.FullName, EnvelopeKind.Reply, reply.Answer, reply.Sealed, request.Sealed, WhoOwnsAnswer.Parser, "answered without an answer");
    }

    /// <summary>Starts, stops or restarts a module (on other nodes through the local farmd); the call may take <paramref name="wait"/> longer than the timeout.</summary>
    public async Task<ModuleControlAnswer> ControlModuleAsync(ModuleControlQuery query, TimeSpan wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var method = AdminMethods.ControlModule;
        var request = envelopes is null ? new ModuleControlRequest { Query = query } : new ModuleControlRequest { Sealed = envelopes.Seal(method.FullName, query) };
        var reply = await CallAsync(method, request, Deadline() + wait, cancellationToken);
        return Open(method.FullName, EnvelopeKind.Reply, reply.Answer, reply.Sealed, request.Sealed, ModuleControlAnswer.Parser, "answered without an answer");
    }

    /// <summary>
    /// Applies a cluster file: over the socket on every node (farmd relays it), over TCP on that node only (the text then
    /// travels encrypted with the cluster key). The call may take <paramref name="extra"/> longer than the timeout.
    /// </summary>
    public async Task<ConfigApplyAnswer> ApplyConfigAsync(ConfigApplyQuery query, TimeSpan extra, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var method = AdminMethods.ApplyConfig;
        ConfigApplyRequest request;
        if (envelopes is null)
        {
            request = new ConfigApplyRequest { Query = query };
        }
        else
        {
            // Envelopes only authenticate; the file holds the cluster key.
            var sealedQuery = query.Clone();
            sealedQuery.EncryptedText = ByteString.CopyFrom(new ConfigTextCipher(target.Key!).Encrypt(query.Text));
            sealedQuery.Text = "";
            request = new ConfigApplyRequest { Sealed = envelopes.Seal(method.FullName, sealedQuery) };
        }

        var reply = await CallAsync(method, request, Deadline() + extra, cancellationToken);
        return Open(method.FullName, EnvelopeKind.Reply, reply.Answer, reply.Sealed, request.Sealed, ConfigApplyAnswer.Parser, "answered without an answer");
    }

    /// <summary>Drains or resumes a node (another one through the local farmd).</summary>
    public async Task<DrainAnswer> DrainNodeAsync(DrainQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var method = AdminMethods.DrainNode;
        var request = envelopes is null ? new DrainRequest { Query = query } : new DrainRequest { Sealed = envelopes.Seal(method.FullName, query) };
        var reply = await CallAsync(method, request, Deadline(), cancellationToken);
        return Open(method.FullName, EnvelopeKind.Reply, reply.Answer, reply.Sealed, request.Sealed, DrainAnswer.Parser, "answered without an answer");
    }

    /// <summary>A module's recent log lines, then (with follow) every new batch until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<ModuleLogBatch> ModuleLogsAsync(ModuleLogsQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var method = AdminMethods.ModuleLogs;
        var request = envelopes is null ? new ModuleLogsRequest { Query = query } : new ModuleLogsRequest { Sealed = envelopes.Seal(method.FullName, query) };
        Envelope? previous = null;
        await foreach (var reply in StreamAsync(method, request, query.Follow ? "ended the stream (it is stopping?)" : null, cancellationToken))
        {
            var batch = Open(method.FullName, EnvelopeKind.StreamItem, reply.Batch, reply.Sealed, request.Sealed, ModuleLogBatch.Parser, "sent log lines without a batch", previous);
            previous = reply.Sealed;
            yield return batch;
        }
    }

    public void Dispose() => client.Dispose();

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
                return new AdminCallException($"cannot reach {where}: {rpc.Detail}", rpc);
            case StatusCode.DeadlineExceeded:
                return new AdminCallException($"{where} did not answer within {Seconds(target.Timeout)}", rpc);
            case StatusCode.Unauthenticated:
                return new AdminCallException(
                    $"{where} refused the call ({rpc.Detail}): the key in --cluster/--key-file is not this cluster's, or the clocks differ by more than 30 s", rpc);
            case StatusCode.Unimplemented:
                return new AdminCallException($"{where} does not implement {method}: it runs an older farmd; update it", rpc);
            case StatusCode.InvalidArgument:
                return new AdminCallException(rpc.Detail, rpc);
            default:
                return new AdminCallException($"{where} failed: {rpc.StatusCode}: {rpc.Detail}", rpc);
        }
    }

    private AdminRequest StatusRequest(string method) =>
        envelopes is null ? new AdminRequest { Query = new StatusQuery() } : new AdminRequest { Sealed = envelopes.Seal(method, new StatusQuery()) };

    private DateTimeOffset Deadline() => timeProvider.GetUtcNow() + target.Timeout;

    private async Task<TReply> CallAsync<TRequest, TReply>(
        RpcMethod<TRequest, TReply> method, TRequest request, DateTimeOffset deadline, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>
        where TReply : class, IMessage<TReply>
    {
        try
        {
            return await client.UnaryAsync(method, request, deadline: deadline, cancellationToken: cancellationToken);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Translate(ex, method.FullName);
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
    private async IAsyncEnumerable<TReply> StreamAsync<TRequest, TReply>(
        RpcMethod<TRequest, TReply> method, TRequest request, string? endedError, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>
        where TReply : class, IMessage<TReply>
    {
        using var firstMessage = new CancellationTokenSource(target.Timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, firstMessage.Token);
        await using var replies = client.ServerStreamingAsync(method, request, cancellationToken: linked.Token).GetAsyncEnumerator(linked.Token);
        while (true)
        {
            bool more;
            try
            {
                more = await replies.MoveNextAsync();
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && firstMessage.IsCancellationRequested)
            {
                throw new AdminCallException($"farmd at {target.Display} did not answer within {Seconds(target.Timeout)}", ex);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is RpcException or OperationCanceledException)
            {
                throw Translate(ex, method.FullName);
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
        for (Exception? e = exception; e is not null; e = e.InnerException)
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
