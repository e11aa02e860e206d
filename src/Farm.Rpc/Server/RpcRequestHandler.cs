using Farm.Rpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Farm.Rpc.Server;

/// <summary>Turns one HTTP/2 request into one gRPC call: validates it, runs the method, writes the status.</summary>
internal sealed partial class RpcRequestHandler(RpcServerOptions options, TimeProvider timeProvider, ILogger logger)
{
    private const string HandlerFailedDetail = "Exception was thrown by handler.";

    public async Task HandleAsync(HttpContext http, ServerMethod method)
    {
        if (!TryAccept(http, method.FullName, out TimeSpan? timeout))
        {
            return;
        }

        var call = new ServerCall(http, options, method.FullName, timeout, timeProvider);
        Task? work = null;
        try
        {
            // The request is read here, not inside the raced task, so the body is never touched after we return.
            object request;
            try
            {
                request = await method.ReadRequestAsync(call);
            }
            catch (IOException) when (!call.IsDeadlineExceeded)
            {
                // The client reset the stream while we read its request (it gave up, e.g. its own deadline passed):
                // a cancellation by the client, not a fault of this server.
                Log.ClientCancelled(logger, method.FullName);
                await call.CompleteAsync(StatusCode.Cancelled, null);
                return;
            }

            work = method.InvokeAsync(call, request);

            // Race the handler against the deadline: the status goes out on time even if the handler ignores its token.
            await work.WaitAsync(call.CancellationToken);
            await call.CompleteAsync(StatusCode.OK, null);
        }
#pragma warning disable CA1031 // Every failure of a handler must become a status; none may reach Kestrel.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await FailAsync(call, ex);
        }
        finally
        {
            if (work is { IsCompleted: false })
            {
                _ = ObserveAbandonedAsync(work, call);
            }
            else
            {
                call.Dispose();
            }
        }
    }

    /// <summary>Answers a path with no registered handler: UNIMPLEMENTED for gRPC requests, 404 for anything else.</summary>
    public Task HandleUnknownAsync(HttpContext http)
    {
        if (!GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        string path = http.Request.Path.Value ?? string.Empty;
        Log.RequestRejected(logger, path, "no handler is registered");
        WriteTrailersOnly(http, StatusCodes.Status200OK, StatusCode.Unimplemented, $"Method '{path}' is not implemented.");
        return Task.CompletedTask;
    }

    private bool TryAccept(HttpContext http, string method, out TimeSpan? timeout)
    {
        timeout = null;
        HttpRequest request = http.Request;
        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            Log.RequestRejected(logger, method, $"protocol {request.Protocol}");
            WriteTrailersOnly(http, StatusCodes.Status426UpgradeRequired, StatusCode.Internal, $"gRPC requires HTTP/2; the request used {request.Protocol}.");
            return false;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            Log.RequestRejected(logger, method, $"content-type '{request.ContentType}'");
            WriteTrailersOnly(http, StatusCodes.Status415UnsupportedMediaType, StatusCode.Internal, $"Content-type '{request.ContentType}' is not supported; use {GrpcProtocol.ContentType}.");
            return false;
        }

        string? encoding = request.Headers[GrpcProtocol.EncodingHeader];
        if (!GrpcProtocol.IsIdentityEncoding(encoding))
        {
            Log.RequestRejected(logger, method, $"grpc-encoding '{encoding}'");
            http.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;
            WriteTrailersOnly(http, StatusCodes.Status200OK, StatusCode.Unimplemented, $"grpc-encoding '{encoding}' is not supported; only identity is.");
            return false;
        }

        string? timeoutHeader = request.Headers[GrpcProtocol.TimeoutHeader];
        if (timeoutHeader is not null)
        {
            if (!GrpcTimeout.TryParse(timeoutHeader, out TimeSpan parsed))
            {
                Log.RequestRejected(logger, method, $"grpc-timeout '{timeoutHeader}'");
                WriteTrailersOnly(http, StatusCodes.Status200OK, StatusCode.Internal, $"Invalid grpc-timeout '{timeoutHeader}'.");
                return false;
            }

            timeout = parsed;
        }

        // Kestrel's request body limit (30 MB) must not pre-empt our per-message limit.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = GrpcProtocol.ContentType;
        return true;
    }

    private async Task FailAsync(ServerCall call, Exception exception)
    {
        string method = call.Context.Method;
        StatusCode code;
        string detail;
        if (exception is RpcException rpc)
        {
            (code, detail) = (rpc.StatusCode, rpc.Detail);
            Log.CallFailed(logger, method, code, detail);
        }
        else if (call.IsDeadlineExceeded)
        {
            (code, detail) = (StatusCode.DeadlineExceeded, "Deadline exceeded.");
            Log.DeadlineExceeded(logger, method, call.Timeout);
        }
        else if (call.IsClientGone)
        {
            // The stream is reset; no status can reach the client any more.
            Log.ClientCancelled(logger, method);
            await call.CompleteAsync(StatusCode.Cancelled, null);
            return;
        }
        else
        {
            // The exception text stays in the server log: it may describe internals the client must not see.
            (code, detail) = (StatusCode.Unknown, HandlerFailedDetail);
            Log.HandlerFailed(logger, method, exception);
        }

        await call.CompleteAsync(code, detail);
    }

    private async Task ObserveAbandonedAsync(Task work, ServerCall call)
    {
        try
        {
            await work;
        }
        catch (OperationCanceledException)
        {
            // Expected: the handler saw its token after the call ended.
        }
#pragma warning disable CA1031 // A background observer must log, never throw.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AbandonedHandlerFailed(logger, call.Context.Method, ex);
        }
        finally
        {
            call.Dispose();
        }
    }

    private static void WriteTrailersOnly(HttpContext http, int httpStatus, StatusCode code, string detail)
    {
        HttpResponse response = http.Response;
        response.StatusCode = httpStatus;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.StatusHeader] = StatusMapping.Format(code);
        response.Headers[GrpcProtocol.MessageHeader] = GrpcMessageEncoding.Encode(detail);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Handler of {Method} threw an unhandled exception; the client gets UNKNOWN.")]
        public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

        [LoggerMessage(2, LogLevel.Debug, "{Method} exceeded its deadline ({Timeout}).")]
        public static partial void DeadlineExceeded(ILogger logger, string method, TimeSpan? timeout);

        [LoggerMessage(3, LogLevel.Debug, "{Method} ended with {StatusCode}: {Detail}")]
        public static partial void CallFailed(ILogger logger, string method, StatusCode statusCode, string detail);

        [LoggerMessage(4, LogLevel.Debug, "{Method} was cancelled by the client.")]
        public static partial void ClientCancelled(ILogger logger, string method);

        [LoggerMessage(5, LogLevel.Warning, "Handler of {Method} kept running after its call ended, then failed.")]
        public static partial void AbandonedHandlerFailed(ILogger logger, string method, Exception exception);

        [LoggerMessage(6, LogLevel.Debug, "Rejected a request for {Method}: {Reason}.")]
        public static partial void RequestRejected(ILogger logger, string method, string reason);
    }
}
