using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Farm.Rpc.Protocol;
using Google.Protobuf;

namespace Farm.Rpc.Client;

/// <summary>gRPC client over HTTP/2 only: h2c with prior knowledge, TLS with ALPN h2, or a Unix domain socket.</summary>
public sealed class RpcClient : IRpcChannel, IDisposable
{
    private readonly RpcClientOptions options;
    private readonly HttpMessageInvoker invoker;

    /// <summary>Creates a client; connections open lazily on the first call and are reused.</summary>
    public RpcClient(RpcClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Address);
        if (!options.Address.IsAbsoluteUri || options.Address.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException("The address must be an absolute http:// or https:// URI.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxReceiveMessageSize, nameof(options));
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        this.options = options;

        // HttpMessageInvoker, unlike HttpClient, never buffers the body and has no overall timeout: deadlines are ours.
        invoker = options.HttpHandler is { } handler
            ? new HttpMessageInvoker(handler, disposeHandler: false)
            : new HttpMessageInvoker(CreateHandler(options), disposeHandler: true);
    }

    /// <inheritdoc />
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(
        RpcMethod<TRequest, TResponse> method,
        TRequest request,
        RpcMetadata? metadata = null,
        DateTimeOffset? deadline = null,
        CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        using ClientCall call = await StartCallAsync(method.FullName, request, metadata, deadline, cancellationToken);
        TResponse? response = await call.ReadMessageAsync(method.ResponseParser);
        if (response is not null && await call.ReadMessageAsync(method.ResponseParser) is not null)
        {
            throw new RpcException(StatusCode.Internal, "The server sent more than one message for a unary call.");
        }

        call.ThrowIfFailed();
        return response ?? throw new RpcException(StatusCode.Internal, "The server answered OK without a response message.");
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(
        RpcMethod<TRequest, TResponse> method,
        TRequest request,
        RpcMetadata? metadata = null,
        DateTimeOffset? deadline = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(request);
        using ClientCall call = await StartCallAsync(method.FullName, request, metadata, deadline, cancellationToken);
        while (await call.ReadMessageAsync(method.ResponseParser) is { } message)
        {
            yield return message;
        }

        call.ThrowIfFailed();
    }

    /// <inheritdoc />
    public void Dispose() => invoker.Dispose();

    private Task<ClientCall> StartCallAsync(
        string path,
        IMessage request,
        RpcMetadata? metadata,
        DateTimeOffset? deadline,
        CancellationToken cancellationToken)
    {
        TimeSpan? timeout = null;
        if (deadline is { } due)
        {
            timeout = due - options.TimeProvider.GetUtcNow();
            if (timeout <= TimeSpan.Zero)
            {
                throw new RpcException(StatusCode.DeadlineExceeded, "Deadline exceeded before the call started.");
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        HttpRequestMessage message = CreateRequest(path, request, metadata, timeout);
        return ClientCall.StartAsync(invoker, message, timeout, options.TimeProvider, options.MaxReceiveMessageSize, cancellationToken);
    }

    private HttpRequestMessage CreateRequest(string path, IMessage request, RpcMetadata? metadata, TimeSpan? timeout)
    {
        byte[] body = MessageFraming.Frame(request, options.MaxSendMessageSize);
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Address, path))
        {
            // Exact 2.0 makes SocketsHttpHandler use h2c prior knowledge on http:// and demand ALPN h2 on https://.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(GrpcProtocol.ContentType);
        HttpRequestHeaders headers = message.Headers;
        headers.TE.ParseAdd("trailers");
        headers.TryAddWithoutValidation("user-agent", GrpcProtocol.UserAgent);
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.IdentityEncoding);
        if (timeout is { } t)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(t));
        }

        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (!headers.TryAddWithoutValidation(key, value))
                {
                    message.Dispose();
                    throw new ArgumentException($"Metadata key '{key}' cannot be sent as a request header.", nameof(metadata));
                }
            }
        }

        return message;
    }

    private static SocketsHttpHandler CreateHandler(RpcClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.ConnectTimeout,

            // Streams beyond the server's concurrent-stream limit open a second connection instead of queueing.
            EnableMultipleHttp2Connections = true,
        };

        if (options.Address.Scheme == Uri.UriSchemeHttps)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = options.ServerCertificateValidation,
                ClientCertificates = options.ClientCertificates,
            };
        }

        if (options.UnixSocketPath is { } path)
        {
            var endPoint = new UnixDomainSocketEndPoint(path);
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return handler;
    }
}
