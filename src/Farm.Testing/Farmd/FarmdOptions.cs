namespace Farm.Testing.Farmd;

/// <summary>How <see cref="FarmdProcess.Start"/> launches one farmd: the command line and where it runs.</summary>
public sealed record FarmdOptions
{
    /// <summary>The cluster file (<c>--cluster</c>). Required.</summary>
    public required string ClusterFile { get; init; }

    /// <summary>This node's name in the cluster file (<c>--node</c>). Required.</summary>
    public required string Node { get; init; }

    /// <summary>The admin socket path (<c>--admin-socket</c>); the test process connects to it directly. Required.</summary>
    public required string AdminSocket { get; init; }

    /// <summary>The modules directory (<c>--modules</c>), or null for none. Default null.</summary>
    public string? ModulesDirectory { get; init; }

    /// <summary>The state directory (<c>--state-dir</c>), or null for <c>state-NODE</c> beside the admin socket. Default null.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>The log directory (<c>--log-dir</c>), or null for console only (always captured). Default null.</summary>
    public string? LogDirectory { get; init; }

    /// <summary>
    /// The network namespace to run in (<c>ip netns exec</c>), or null to run on the host, where tests use loopback
    /// addresses through <see cref="AddressMap"/>. Default null.
    /// </summary>
    public NetworkNamespace? Namespace { get; init; }

    /// <summary>
    /// Whether farmd programs the data plane (nftables, VIPs, ARP/NDP). Default null: yes inside a
    /// <see cref="Namespace"/>, never on the host (tests must not touch the root namespace, so true without a
    /// namespace is refused).
    /// </summary>
    public bool? DataPlane { get; init; }

    /// <summary><c>--address-map</c> pairs: bind and dial the value wherever the cluster file says the key. Default none.</summary>
    public IReadOnlyDictionary<IPAddress, IPAddress> AddressMap { get; init; } = new Dictionary<IPAddress, IPAddress>();

    /// <summary>More command-line arguments, appended as given. Default none.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Environment variables to set (<c>NOTIFY_SOCKET</c> is removed unless given here). Default none.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The layout the namespace farms share under one <paramref name="root"/>: <c>cluster.yaml</c> and <c>modules/</c> in
    /// it, and per node <c>NODE/admin.sock</c> and <c>NODE/state</c> (the node's folder is created).
    /// </summary>
    public static FarmdOptions UnderRoot(string root, string node, NetworkNamespace ns)
    {
        string dir = Path.Combine(root, node);
        // farmd refuses an admin socket in a folder others may enter (the folder may exist already, e.g. with modules).
        Directory.CreateDirectory(dir);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return new FarmdOptions
        {
            ClusterFile = Path.Combine(root, "cluster.yaml"),
            Node = node,
            AdminSocket = Path.Combine(dir, "admin.sock"),
            ModulesDirectory = Path.Combine(root, "modules"),
            StateDirectory = Path.Combine(dir, "state"),
            Namespace = ns,
        };
    }

    /// <summary>
    /// The farmd to run: a build output <c>farmd.dll</c> (run with <c>dotnet</c>) or a published farmd executable (run
    /// as it is, e.g. the package's self-contained ReadyToRun build). Default <c>farmd.dll</c> next to the test assembly.
    /// </summary>
    public string FarmdPath { get; init; } = DefaultFarmdPath;

    /// <summary>
    /// <c>farmd.dll</c> next to the test assembly (a ProjectReference to src/Farm.Daemon copies it there), or what
    /// <c>FARM_TEST_FARMD</c> names: e.g. the package's ReadyToRun build, to measure what ships without the JIT's first
    /// compilations in the measured path.
    /// </summary>
    public static string DefaultFarmdPath =>
        System.Environment.GetEnvironmentVariable("FARM_TEST_FARMD") is { Length: > 0 } path ? path : Path.Combine(AppContext.BaseDirectory, "farmd.dll");
}
