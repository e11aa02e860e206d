namespace Farm.Rpc.Server;

/// <summary>What a handler knows about the call it serves: method, metadata, deadline, peer and cancellation.</summary>
public sealed class RpcCallContext
{
    /// <summary>Creates a context; the server does this per call, tests may do it to call handlers directly.</summary>
    public RpcCallContext(string method, RpcMetadata requestHeaders, DateTimeOffset? deadline, string? peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(requestHeaders);
        Method = method;
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        Peer = peer;
        CancellationToken = cancellationToken;
    }

    /// <summary>The method path, <c>/package.Service/Method</c>.</summary>
    public string Method { get; }

    /// <summary>Custom metadata sent by the client, plus its <c>user-agent</c>; <c>grpc-*</c> and HTTP/2 transport headers are excluded.</summary>
    public RpcMetadata RequestHeaders { get; }

    /// <summary>When the client stops waiting, from <c>grpc-timeout</c>; null without a deadline.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>The client's address as <c>ip:port</c>, or null when unknown (e.g. over a Unix domain socket).</summary>
    public string? Peer { get; }

    /// <summary>Fires when the deadline passes or the client cancels the call.</summary>
    public CancellationToken CancellationToken { get; }
}
