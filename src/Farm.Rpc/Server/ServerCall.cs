using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Farm.Rpc.Protocol;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Farm.Rpc.Server;

/// <summary>
/// State of one server call: the request body, the response writes and the final status.
/// Invariant: once <see cref="CompleteAsync"/> ran, nothing else touches the response, because a handler that
/// ignores its token may keep running after the call ended (deadline) and must not write into a recycled context.
/// </summary>
internal sealed class ServerCall : IDisposable
{
    private readonly HttpContext http;
    private readonly RpcServerOptions options;
    private readonly CancellationTokenSource deadlineSource;
    private readonly CancellationTokenSource callSource;

    // Serializes response writes against completion; never disposed because an abandoned handler may still wait on it.
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private bool completed;
    private bool messageWritten;

    public ServerCall(HttpContext http, RpcServerOptions options, string method, TimeSpan? timeout, TimeProvider timeProvider)
    {
        this.http = http;
        this.options = options;
        Timeout = timeout;

        // Without a timer the source never fires, but IsDeadlineExceeded and the linked token need one.
        deadlineSource = GrpcTimeout.StartTimer(timeout, timeProvider) ?? new CancellationTokenSource();
        callSource = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, deadlineSource.Token);

        var metadata = new RpcMetadata();
        foreach (var header in http.Request.Headers)
        {
            if (RpcMetadata.IsVisibleOnReceive(header.Key))
            {
                foreach (string? value in header.Value)
                {
                    metadata.AddReceived(header.Key, value ?? string.Empty);
                }
            }
        }

        DateTimeOffset? deadline = timeout is { } d ? timeProvider.GetUtcNow() + d : null;
        Context = new RpcCallContext(method, metadata, deadline, FormatPeer(http.Connection), callSource.Token);
    }

    public RpcCallContext Context { get; }

    public TimeSpan? Timeout { get; }

    public CancellationToken CancellationToken => callSource.Token;

    public bool IsDeadlineExceeded => deadlineSource.IsCancellationRequested;

    public bool IsClientGone => http.RequestAborted.IsCancellationRequested;

    /// <summary>Reads the body to its end and returns its single message.</summary>
    public async Task<T> ReadRequestAsync<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        PipeReader reader = http.Request.BodyReader;
        string? encoding = http.Request.Headers[GrpcProtocol.EncodingHeader];
        T? message = default;
        bool haveMessage = false;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(CancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                while (MessageFraming.TryRead(ref buffer, options.MaxReceiveMessageSize, encoding, out var payload))
                {
                    if (haveMessage)
                    {
                        throw new RpcException(StatusCode.Internal, "Received more than one request message for a method that takes one.");
                    }

                    message = Parse(parser, payload);
                    haveMessage = true;
                }

                if (result.IsCompleted)
                {
                    if (buffer.Length > 0)
                    {
                        throw new RpcException(StatusCode.Internal, "The request ended inside a length-prefixed message.");
                    }

                    return haveMessage ? message! : throw new RpcException(StatusCode.Internal, "The request ended without a message.");
                }

                CancellationToken.ThrowIfCancellationRequested();
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>Frames and flushes one response message.</summary>
    public async Task WriteMessageAsync(IMessage message, CancellationToken cancellationToken)
    {
        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(CancellationToken, cancellationToken)
            : null;
        CancellationToken token = linked?.Token ?? CancellationToken;
        await writeLock.WaitAsync(token);
        try
        {
            if (completed)
            {
                throw new InvalidOperationException("The call has already completed; no more messages can be written.");
            }

            MessageFraming.Write(http.Response.BodyWriter, message, options.MaxSendMessageSize);
            messageWritten = true;
            FlushResult flush = await http.Response.BodyWriter.FlushAsync(token);
            if (flush.IsCanceled)
            {
                token.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            writeLock.Release();
        }
    }

    /// <summary>
    /// Ends the call with a status: in the trailers after messages, or as a Trailers-Only response
    /// (status in the only HEADERS frame, no body) when no message went out.
    /// </summary>
    public async Task CompleteAsync(StatusCode code, string? detail)
    {
        await writeLock.WaitAsync(CancellationToken.None);
        try
        {
            if (completed)
            {
                return;
            }

            completed = true;
            if (IsClientGone)
            {
                return;
            }

            HttpResponse response = http.Response;
            string status = StatusMapping.Format(code);
            string? message = string.IsNullOrEmpty(detail) ? null : GrpcMessageEncoding.Encode(detail);
            if (!messageWritten && !response.HasStarted)
            {
                response.Headers[GrpcProtocol.StatusHeader] = status;
                if (message is not null)
                {
                    response.Headers[GrpcProtocol.MessageHeader] = message;
                }
            }
            else
            {
                response.AppendTrailer(GrpcProtocol.StatusHeader, status);
                if (message is not null)
                {
                    response.AppendTrailer(GrpcProtocol.MessageHeader, message);
                }
            }
        }
        finally
        {
            writeLock.Release();
        }
    }

    public void Dispose()
    {
        callSource.Dispose();
        deadlineSource.Dispose();
    }

    private static T Parse<T>(MessageParser<T> parser, in ReadOnlySequence<byte> payload)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(StatusCode.Internal, "Failed to deserialize the request message.", ex);
        }
    }

    private static string? FormatPeer(ConnectionInfo connection) =>
        connection.RemoteIpAddress is { } address ? new IPEndPoint(address, connection.RemotePort).ToString() : null;
}
