using Farm.Protocol.V1;
using Farm.Rpc;

namespace Farm.Protocol;

/// <summary>The methods of <c>farm.v1.Membership</c>; each carries an <see cref="Envelope"/> both ways.</summary>
public static class MembershipMethods
{
    /// <summary>The fully qualified service name.</summary>
    public const string ServiceName = "farm.v1.Membership";

    /// <summary>HeartbeatRequest to HeartbeatReply.</summary>
    public static RpcMethod<Envelope, Envelope> Heartbeat { get; } = Create("Heartbeat");

    /// <summary>PrepareRequest to PrepareReply.</summary>
    public static RpcMethod<Envelope, Envelope> Prepare { get; } = Create("Prepare");

    /// <summary>CommitRequest to CommitReply.</summary>
    public static RpcMethod<Envelope, Envelope> Commit { get; } = Create("Commit");

    /// <summary>GetViewRequest to GetViewReply.</summary>
    public static RpcMethod<Envelope, Envelope> GetView { get; } = Create("GetView");

    private static RpcMethod<Envelope, Envelope> Create(string name) => new(ServiceName, name, Envelope.Parser, Envelope.Parser);
}
