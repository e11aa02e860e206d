namespace Farm.Daemon.Hosting;

/// <summary>The parsed command line of farmd (not yet checked against the files).</summary>
internal sealed record DaemonArguments
{
    public required string ClusterFile { get; init; }

    /// <summary>This node's name; null: the cluster node whose name is this host's name (<see cref="HostName"/>).</summary>
    public string? NodeName { get; init; }

    /// <summary>The host name that picks the node when <see cref="NodeName"/> is null; null: the system's (tests set it).</summary>
    public string? HostName { get; init; }

    public string? ModulesDirectory { get; init; }

    /// <summary>True when <see cref="ModulesDirectory"/> is the default, which may be missing (then there is no module).</summary>
    public bool ModulesDirectoryOptional { get; init; }

    public string AdminSocket { get; init; } = DaemonSettings.DefaultAdminSocket;

    public string? LogDirectory { get; init; }

    /// <summary><c>--log-level</c>: the least severe level logged. Default Information.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    public string StateDirectory { get; init; } = DaemonSettings.DefaultStateDirectory;

    public DataPlaneMode DataPlane { get; init; } = DataPlaneMode.Kernel;

    /// <summary>
    /// <c>--allow-untrusted-modules</c> (development only): run modules whose folder is not root's own, with a warning,
    /// instead of refusing them.
    /// </summary>
    public bool AllowUntrustedModules { get; init; }

    /// <summary><c>--admin-group GROUP</c> (a name or a gid): its members may use the admin socket besides root. Default none.</summary>
    public string? AdminGroup { get; init; }

    /// <summary>Raw <c>FROM=TO</c> pairs of <c>--address-map</c>.</summary>
    public IReadOnlyList<string> AddressMap { get; init; } = [];

    /// <summary><c>--cleanup</c>: undo what a crashed run left in the kernel and exit (package removal).</summary>
    public bool Cleanup { get; init; }
}
