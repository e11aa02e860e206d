using Farm.Protocol.V1;
using Farm.Rpc;

namespace Farm.Protocol;

/// <summary>The methods of <c>farm.v1.Admin</c>.</summary>
public static class AdminMethods
{
    /// <summary>The fully qualified service name.</summary>
    public const string ServiceName = "farm.v1.Admin";

    /// <summary>The node's status, once.</summary>
    public static RpcMethod<AdminRequest, AdminReply> GetStatus { get; } =
        new(ServiceName, "GetStatus", AdminRequest.Parser, AdminReply.Parser);

    /// <summary>The node's status, then every change.</summary>
    public static RpcMethod<AdminRequest, AdminReply> WatchStatus { get; } =
        new(ServiceName, "WatchStatus", AdminRequest.Parser, AdminReply.Parser);

    /// <summary>Which node serves a client now, and why.</summary>
    public static RpcMethod<WhoOwnsRequest, WhoOwnsReply> WhoOwns { get; } =
        new(ServiceName, "WhoOwns", WhoOwnsRequest.Parser, WhoOwnsReply.Parser);

    /// <summary>Start, stop or restart a module on this node, or (over the Unix socket) on other nodes through this one.</summary>
    public static RpcMethod<ModuleControlRequest, ModuleControlReply> ControlModule { get; } =
        new(ServiceName, "ControlModule", ModuleControlRequest.Parser, ModuleControlReply.Parser);

    /// <summary>A module's recent log lines, then (follow) every new one.</summary>
    public static RpcMethod<ModuleLogsRequest, ModuleLogsReply> ModuleLogs { get; } =
        new(ServiceName, "ModuleLogs", ModuleLogsRequest.Parser, ModuleLogsReply.Parser);

    /// <summary>Apply a cluster file that changes only weights and version, on every node (relayed over the Unix socket) or on this one.</summary>
    public static RpcMethod<ConfigApplyRequest, ConfigApplyReply> ApplyConfig { get; } =
        new(ServiceName, "ApplyConfig", ConfigApplyRequest.Parser, ConfigApplyReply.Parser);

    /// <summary>Drain or resume a node (relayed to it over the Unix socket).</summary>
    public static RpcMethod<DrainRequest, DrainReply> DrainNode { get; } =
        new(ServiceName, "DrainNode", DrainRequest.Parser, DrainReply.Parser);
}
