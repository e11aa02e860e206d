namespace Farm.Cli.Admin;

/// <summary>Where farmctl's admin calls go: the local Unix socket (plain), or a node over TCP (sealed with the cluster key).</summary>
internal sealed record AdminTarget
{
    /// <summary>farmd's default admin socket (farmd <c>--admin-socket</c>, docs/operations.md).</summary>
    public const string DefaultSocket = "/run/farm/farmd.sock";

    /// <summary>Default time a call may take.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The Unix socket path, or null for TCP.</summary>
    public string? SocketPath { get; init; }

    /// <summary>Host name or address for TCP (IPv6 without brackets), or null for the socket.</summary>
    public string? Host { get; init; }

    /// <summary>TCP port (the cluster's <c>grpc_port</c>).</summary>
    public int Port { get; init; }

    /// <summary>The cluster key that seals TCP calls.</summary>
    public string? Key { get; init; }

    /// <summary>Node names a sealed reply may come from (from <c>--cluster</c>); null when only a key file is known.</summary>
    public IReadOnlySet<string>? Nodes { get; init; }

    /// <summary>The cluster CA of a farm with TLS (the node's certificate must chain to it); null for h2c.</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>How long a call (or the first message of a watch) may take.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>True for TCP.</summary>
    public bool IsRemote => SocketPath is null;

    /// <summary>The target as messages name it: the socket path or HOST:PORT.</summary>
    public string Display => SocketPath ?? (Host!.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}");

    /// <summary>A local target.</summary>
    public static AdminTarget Local(string socketPath, TimeSpan? timeout = null) =>
        new() { SocketPath = socketPath, Timeout = timeout ?? DefaultTimeout };
}
