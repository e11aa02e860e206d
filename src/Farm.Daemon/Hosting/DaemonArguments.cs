namespace Farm.Daemon.Hosting;

/// <summary>The parsed command line of farmd (not yet checked against the files).</summary>
internal sealed record DaemonArguments
{
    public required string ClusterFile { get; init; }

    public required string NodeName { get; init; }

    public string? ModulesDirectory { get; init; }

    public string AdminSocket { get; init; } = DaemonSettings.DefaultAdminSocket;

    public string? LogDirectory { get; init; }

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
}
