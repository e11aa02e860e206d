namespace Farm.Protocol;

/// <summary>
/// The gRPC paths of farm.v1's methods, as the envelope MAC covers them (proto/farm/v1/envelope.proto); a server reads
/// the same string from <c>ServerCallContext.Method</c>.
/// </summary>
public static class MethodPaths
{
    /// <summary>HeartbeatRequest to HeartbeatReply.</summary>
    public const string Heartbeat = "/farm.v1.Membership/Heartbeat";

    /// <summary>A stream of heartbeats, each item sealed as for <see cref="Heartbeat"/>.</summary>
    public const string HeartbeatStream = "/farm.v1.Membership/HeartbeatStream";

    /// <summary>PrepareRequest to PrepareReply.</summary>
    public const string Prepare = "/farm.v1.Membership/Prepare";

    /// <summary>CommitRequest to CommitReply.</summary>
    public const string Commit = "/farm.v1.Membership/Commit";

    /// <summary>GetViewRequest to GetViewReply.</summary>
    public const string GetView = "/farm.v1.Membership/GetView";

    /// <summary>The node's status, once.</summary>
    public const string GetStatus = "/farm.v1.Admin/GetStatus";

    /// <summary>The node's status, then every change.</summary>
    public const string WatchStatus = "/farm.v1.Admin/WatchStatus";

    /// <summary>Which node serves a client now, and why.</summary>
    public const string WhoOwns = "/farm.v1.Admin/WhoOwns";

    /// <summary>Start, stop or restart a module.</summary>
    public const string ControlModule = "/farm.v1.Admin/ControlModule";

    /// <summary>A module's recent log lines, then every new one.</summary>
    public const string ModuleLogs = "/farm.v1.Admin/ModuleLogs";

    /// <summary>Apply a cluster file that changes only weights and version.</summary>
    public const string ApplyConfig = "/farm.v1.Admin/ApplyConfig";

    /// <summary>Drain or resume a node.</summary>
    public const string DrainNode = "/farm.v1.Admin/DrainNode";

    /// <summary>Install, roll back, remove or list module bundles.</summary>
    public const string ManageModulePackage = "/farm.v1.Admin/ManageModulePackage";
}
