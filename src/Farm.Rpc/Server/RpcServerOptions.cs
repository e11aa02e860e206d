using Farm.Rpc.Protocol;

namespace Farm.Rpc.Server;

/// <summary>Limits of the RPC server; register with <c>services.Configure&lt;RpcServerOptions&gt;(...)</c>.</summary>
public sealed class RpcServerOptions
{
    /// <summary>Largest request message accepted, in bytes; a larger one fails with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxMessageSize;

    /// <summary>Largest response message sent, in bytes; a larger one fails the call with RESOURCE_EXHAUSTED. Default null: no limit.</summary>
    public int? MaxSendMessageSize { get; set; }
}
