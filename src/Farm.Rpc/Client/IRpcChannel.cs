using Google.Protobuf;

namespace Farm.Rpc.Client;

/// <summary>Makes RPC calls to one server; failures surface as <see cref="RpcException"/>.</summary>
public interface IRpcChannel
{
    /// <summary>Sends one request and returns the single response.</summary>
    /// <param name="method">The method to call.</param>
    /// <param name="request">The request message.</param>
    /// <param name="metadata">Custom metadata sent as request headers, or null.</param>
    /// <param name="deadline">When to give up (sent as <c>grpc-timeout</c> and enforced locally), or null for none.</param>
    /// <param name="cancellationToken">Cancels the call; the call then fails with CANCELLED.</param>
    Task<TResponse> UnaryAsync<TRequest, TResponse>(
        RpcMethod<TRequest, TResponse> method,
        TRequest request,
        RpcMetadata? metadata = null,
        DateTimeOffset? deadline = null,
        CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;

    /// <summary>Sends one request and yields the responses as they arrive; the status is checked after the last one.</summary>
    /// <param name="method">The method to call.</param>
    /// <param name="request">The request message.</param>
    /// <param name="metadata">Custom metadata sent as request headers, or null.</param>
    /// <param name="deadline">When to give up (sent as <c>grpc-timeout</c> and enforced locally), or null for none.</param>
    /// <param name="cancellationToken">Cancels the call; the call then fails with CANCELLED. Stopping the enumeration early also cancels it.</param>
    IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(
        RpcMethod<TRequest, TResponse> method,
        TRequest request,
        RpcMetadata? metadata = null,
        DateTimeOffset? deadline = null,
        CancellationToken cancellationToken = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;
}
