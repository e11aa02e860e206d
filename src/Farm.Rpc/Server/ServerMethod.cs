using Google.Protobuf;

namespace Farm.Rpc.Server;

/// <summary>A registered method: how to parse its request and how to run its handler.</summary>
internal abstract class ServerMethod(string fullName)
{
    public string FullName { get; } = fullName;

    /// <summary>Reads and parses the single request message.</summary>
    public abstract Task<object> ReadRequestAsync(ServerCall call);

    /// <summary>Runs the handler and writes its response messages (not the status).</summary>
    public abstract Task InvokeAsync(ServerCall call, object request);
}

/// <summary>A unary method.</summary>
internal sealed class UnaryServerMethod<TRequest, TResponse>(
    RpcMethod<TRequest, TResponse> method,
    Func<TRequest, RpcCallContext, Task<TResponse>> handler) : ServerMethod(method.FullName)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task<object> ReadRequestAsync(ServerCall call) => await call.ReadRequestAsync(method.RequestParser);

    public override async Task InvokeAsync(ServerCall call, object request)
    {
        TResponse response = await handler((TRequest)request, call.Context)
            ?? throw new InvalidOperationException($"The handler of {FullName} returned null.");
        await call.WriteMessageAsync(response, call.Context.CancellationToken);
    }
}

/// <summary>A server-streaming method.</summary>
internal sealed class ServerStreamingServerMethod<TRequest, TResponse>(
    RpcMethod<TRequest, TResponse> method,
    Func<TRequest, IRpcStreamWriter<TResponse>, RpcCallContext, Task> handler) : ServerMethod(method.FullName)
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public override async Task<object> ReadRequestAsync(ServerCall call) => await call.ReadRequestAsync(method.RequestParser);

    public override Task InvokeAsync(ServerCall call, object request) =>
        handler((TRequest)request, new StreamWriter(call), call.Context);

    private sealed class StreamWriter(ServerCall call) : IRpcStreamWriter<TResponse>
    {
        public Task WriteAsync(TResponse message, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(message);
            return call.WriteMessageAsync(message, cancellationToken);
        }
    }
}
