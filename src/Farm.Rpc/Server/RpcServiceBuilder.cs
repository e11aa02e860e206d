using Google.Protobuf;

namespace Farm.Rpc.Server;

/// <summary>Collects the handlers of one or more services before they are mapped onto endpoint routing.</summary>
public sealed class RpcServiceBuilder
{
    private readonly Dictionary<string, ServerMethod> methods = new(StringComparer.Ordinal);

    internal RpcServiceBuilder()
    {
    }

    /// <summary>The registered methods, keyed by path.</summary>
    internal IReadOnlyCollection<ServerMethod> Methods => methods.Values;

    /// <summary>Registers a unary handler: one request in, one response out.</summary>
    /// <returns>This builder, for chaining.</returns>
    public RpcServiceBuilder AddUnary<TRequest, TResponse>(
        RpcMethod<TRequest, TResponse> method,
        Func<TRequest, RpcCallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(handler);
        return Add(new UnaryServerMethod<TRequest, TResponse>(method, handler));
    }

    /// <summary>Registers a server-streaming handler: one request in, any number of responses out.</summary>
    /// <returns>This builder, for chaining.</returns>
    public RpcServiceBuilder AddServerStreaming<TRequest, TResponse>(
        RpcMethod<TRequest, TResponse> method,
        Func<TRequest, IRpcStreamWriter<TResponse>, RpcCallContext, Task> handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(handler);
        return Add(new ServerStreamingServerMethod<TRequest, TResponse>(method, handler));
    }

    private RpcServiceBuilder Add(ServerMethod method)
    {
        if (!methods.TryAdd(method.FullName, method))
        {
            throw new InvalidOperationException($"A handler for {method.FullName} is already registered.");
        }

        return this;
    }
}
