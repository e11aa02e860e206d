using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Farm.Rpc.Protocol;
using Google.Protobuf;

namespace Farm.Rpc.Client;

/// <summary>
/// One client call in flight: sends the request, reads length-prefixed messages, then the status.
/// Every failure leaves here as an <see cref="RpcException"/>; disposing before the end resets the stream (CANCEL).
/// </summary>
internal sealed class ClientCall : IDisposable
{
    private readonly CancellationToken callerToken;
    private readonly CancellationTokenSource? deadlineSource;
    private readonly CancellationTokenSource linkedSource;
    private readonly int maxReceiveSize;
    private readonly HttpRequestMessage request;
    private HttpResponseMessage? response;
    private PipeReader? reader;
    private string? encoding;
    private StatusCode? statusCode;
    private string statusDetail = string.Empty;

    private ClientCall(HttpRequestMessage request, TimeSpan? timeout, TimeProvider timeProvider, int maxReceiveSize, CancellationToken callerToken)
    {
        this.request = request;
        this.callerToken = callerToken;
        this.maxReceiveSize = maxReceiveSize;
        deadlineSource = GrpcTimeout.StartTimer(timeout, timeProvider);
        linkedSource = deadlineSource is null
            ? CancellationTokenSource.CreateLinkedTokenSource(callerToken)
            : CancellationTokenSource.CreateLinkedTokenSource(callerToken, deadlineSource.Token);
    }

    private CancellationToken Token => linkedSource.Token;

    /// <summary>Sends <paramref name="request"/> (the call owns it from now on) and waits for the response headers.</summary>
    public static async Task<ClientCall> StartAsync(
        HttpMessageInvoker invoker,
        HttpRequestMessage request,
        TimeSpan? timeout,
        TimeProvider timeProvider,
        int maxReceiveSize,
        CancellationToken cancellationToken)
    {
        var call = new ClientCall(request, timeout, timeProvider, maxReceiveSize, cancellationToken);
        try
        {
            await call.SendAsync(invoker);
            return call;
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>The next message, or null once the response body ended (the status is then known).</summary>
    public async Task<T?> ReadMessageAsync<T>(MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        if (statusCode is not null || reader is null)
        {
            return null;
        }

        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(Token);
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool consumedMessage = false;
                try
                {
                    if (MessageFraming.TryRead(ref buffer, maxReceiveSize, encoding, out var payload))
                    {
                        consumedMessage = true;
                        return parser.ParseFrom(payload);
                    }

                    if (result.IsCompleted)
                    {
                        if (buffer.Length > 0)
                        {
                            throw new RpcException(StatusCode.Internal, "The response ended inside a length-prefixed message.");
                        }

                        ReadStatus(response!.TrailingHeaders, "trailers");
                        return null;
                    }
                }
                finally
                {
                    // After a message, leave the rest unexamined so the next read returns at once if it is complete.
                    if (consumedMessage)
                    {
                        reader.AdvanceTo(buffer.Start);
                    }
                    else
                    {
                        reader.AdvanceTo(buffer.Start, buffer.End);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Throws the call's status unless it is OK; call after <see cref="ReadMessageAsync{T}"/> returned null.</summary>
    public void ThrowIfFailed()
    {
        if (statusCode is not { } code)
        {
            throw new InvalidOperationException("The call has not ended yet.");
        }

        if (code != StatusCode.OK)
        {
            throw new RpcException(code, statusDetail);
        }
    }

    public void Dispose()
    {
        reader?.Complete();
        response?.Dispose();
        request.Dispose();
        linkedSource.Dispose();
        deadlineSource?.Dispose();
    }

    private async Task SendAsync(HttpMessageInvoker invoker)
    {
        try
        {
            response = await invoker.SendAsync(request, Token);

            // Trailers-Only: the status sits in the only HEADERS frame and there is no body.
            if (response.Headers.Contains(GrpcProtocol.StatusHeader))
            {
                ReadStatus(response.Headers, "headers");
                return;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new RpcException(
                    StatusMapping.FromHttpStatus(response.StatusCode),
                    $"Bad gRPC response: HTTP status {(int)response.StatusCode} without grpc-status.");
            }

            string? contentType = response.Content.Headers.ContentType?.ToString();
            if (!GrpcProtocol.IsGrpcContentType(contentType))
            {
                throw new RpcException(StatusCode.Internal, $"Bad gRPC response: content-type '{contentType}'.");
            }

            encoding = FirstValue(response.Headers, GrpcProtocol.EncodingHeader);
            reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(Token));
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Translate(ex);
        }
    }

    private void ReadStatus(HttpHeaders headers, string where)
    {
        string? text = FirstValue(headers, GrpcProtocol.StatusHeader);
        if (text is null)
        {
            statusCode = StatusCode.Internal;
            statusDetail = $"The response carried no grpc-status in its {where}.";
            return;
        }

        // The spec asks clients to treat codes they do not know as UNKNOWN.
        StatusCode? parsed = StatusMapping.ParseStatus(text);
        statusCode = parsed is { } code && code <= StatusCode.Unauthenticated ? code : StatusCode.Unknown;
        string? message = FirstValue(headers, GrpcProtocol.MessageHeader);
        statusDetail = message is null ? string.Empty : GrpcMessageEncoding.Decode(message);
    }

    private RpcException Translate(Exception exception)
    {
        if (deadlineSource?.IsCancellationRequested == true)
        {
            return new RpcException(StatusCode.DeadlineExceeded, "Deadline exceeded.", exception);
        }

        if (callerToken.IsCancellationRequested)
        {
            return new RpcException(StatusCode.Cancelled, "The call was cancelled by the client.", exception);
        }

        if (FindInChain<HttpProtocolException>(exception) is { } protocol)
        {
            return new RpcException(StatusMapping.FromHttp2ErrorCode(protocol.ErrorCode), $"The HTTP/2 stream failed: {protocol.Message}", exception);
        }

        return exception switch
        {
            InvalidProtocolBufferException => new RpcException(StatusCode.Internal, "Failed to deserialize the response message.", exception),
            HttpRequestException or IOException => new RpcException(StatusCode.Unavailable, $"The server is unreachable or the connection failed: {exception.Message}", exception),
            OperationCanceledException => new RpcException(StatusCode.Cancelled, "The call was cancelled.", exception),
            _ => new RpcException(StatusCode.Unknown, $"The call failed: {exception.Message}", exception),
        };
    }

    private static T? FindInChain<T>(Exception? exception)
        where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T match)
            {
                return match;
            }
        }

        return null;
    }

    private static string? FirstValue(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
