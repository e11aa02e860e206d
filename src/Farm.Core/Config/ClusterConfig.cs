using System.Text;

namespace Farm.Core.Config;

/// <summary>The site-specific cluster file (top-level key <c>cluster:</c>): who the members are and how they watch each other.</summary>
/// <remarks>Compare two configurations with <see cref="ComputeHash"/>: record equality compares the lists by reference.</remarks>
public sealed record ClusterConfig
{
    /// <summary>Default of <see cref="GrpcPort"/>.</summary>
    public const int DefaultGrpcPort = 9400;

    /// <summary>Default of <see cref="ConsolePort"/>.</summary>
    public const int DefaultConsolePort = 9410;

    /// <summary>Default of <see cref="ConsoleUsers"/>.</summary>
    public const string DefaultConsoleUsers = "/etc/farm/console-users";

    /// <summary>Name of the single LAN used when the file lists no <c>lans</c>.</summary>
    public const string DefaultLanName = "default";

    /// <summary>Shortest accepted <see cref="Key"/>.</summary>
    public const int MinKeyLength = 16;

    /// <summary>Most nodes a cluster may have.</summary>
    public const int MaxNodes = 64;

    /// <summary>Largest accepted <see cref="Version"/>.</summary>
    public const int MaxVersion = int.MaxValue;

    /// <summary><c>name</c>: cluster name, lower-case letters, digits and '-', at most 63 characters. Required.</summary>
    public required string Name { get; init; }

    /// <summary>
    /// <c>key</c>, or the content of <c>key_file</c>: the shared cluster secret that authenticates every message, 16 to
    /// 4096 characters. Required (one of the two). Never printed.
    /// </summary>
    public required string Key { get; init; }

    /// <summary>
    /// <c>key_file</c> as written (a relative path starts at the cluster file's folder), or null when the key is inline.
    /// When set, <see cref="Key"/> holds the file's text with surrounding whitespace removed. Not in the hash (the key is).
    /// </summary>
    public string? KeyFile { get; init; }

    /// <summary>
    /// <c>version</c>: the file's revision, raised by the admin with every live change (<c>farmctl config apply</c>
    /// refuses a file whose version is not greater than the running one; a reload on SIGHUP one that is lower). Not in
    /// the hash: nodes running different versions still form one farm. Default 0; 0 to 2147483647.
    /// </summary>
    public int Version { get; init; }

    /// <summary><c>grpc_port</c>: TCP port of the membership and admin gRPC service. Default 9400.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary><c>console_port</c>: TCP port of the web console and <c>/metrics</c>; must differ from <see cref="GrpcPort"/>. Default 9410.</summary>
    public int ConsolePort { get; init; } = DefaultConsolePort;

    /// <summary>
    /// <c>console_tls</c>: the console port's certificate; null (the default) for a self-signed one made at first start
    /// and kept in the state folder. Not in the hash (each node presents its own); read at start only.
    /// </summary>
    public ConsoleTlsOptions? ConsoleTls { get; init; }

    /// <summary>
    /// <c>console_users</c>: the web console's users file (written by <c>farmctl console user add</c>). When the file
    /// exists at farmd's start every page needs a login and operators may act; when it does not, the console is
    /// read-only and needs no login. Default <c>/etc/farm/console-users</c>; absolute path. Not in the hash; read at start
    /// (whether it exists) and at each login (its users).
    /// </summary>
    public string ConsoleUsers { get; init; } = DefaultConsoleUsers;

    /// <summary><c>heartbeat</c>: failure-detection timing. Defaults: see <see cref="HeartbeatOptions"/>.</summary>
    public HeartbeatOptions Heartbeat { get; init; } = new();

    /// <summary><c>split_brain</c>: partition handling. Default policy <c>none</c>.</summary>
    public SplitBrainOptions SplitBrain { get; init; } = new();

    /// <summary><c>tls</c>: TLS between nodes and for remote admin calls; null (the default) for h2c.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary><c>lans</c>: names of the heartbeat LANs, in the order of each node's addresses. Default one LAN named <c>default</c>.</summary>
    public IReadOnlyList<string> Lans { get; init; } = [DefaultLanName];

    /// <summary><c>nodes</c>: the members, in file order (behaviour must not depend on that order: the hash sorts them by name). 1 to 64.</summary>
    public required IReadOnlyList<NodeConfig> Nodes { get; init; }

    /// <summary>
    /// SHA-256 (lower-case hex) of a canonical form of this configuration; nodes compare it before admitting a peer.
    /// Independent of key order, comments, whitespace and node order in the file; the key enters only as its own hash.
    /// Node weights and <see cref="Version"/> are left out: each node announces its own weight, so they may differ
    /// between the nodes' files and change live.
    /// </summary>
    public string ComputeHash() => ClusterConfigHasher.Compute(this);

    // The generated record printer would write the secret into logs and exception messages.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name)
            .Append(", Key = ***, KeyFile = ").Append(KeyFile)
            .Append(", Version = ").Append(Version)
            .Append(", GrpcPort = ").Append(GrpcPort)
            .Append(", ConsolePort = ").Append(ConsolePort)
            .Append(", ConsoleTls = ").Append(ConsoleTls?.ToString() ?? "self-signed")
            .Append(", ConsoleUsers = ").Append(ConsoleUsers)
            .Append(", Heartbeat = ").Append(Heartbeat)
            .Append(", SplitBrain = ").Append(SplitBrain)
            .Append(", Tls = ").Append(Tls?.ToString() ?? "none")
            .Append(", Lans = [").AppendJoin(", ", Lans)
            .Append("], Nodes = [").AppendJoin(", ", Nodes).Append(']');
        return true;
    }
}
