using Farm.Daemon.Web;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Everything farmd needs to start, validated: the parsed files and the command line. Only the composition root
/// (<see cref="FarmNode"/>, <see cref="DaemonHost"/>) reads it whole; it binds each concern's record once
/// (<c>Bind...</c>) and gives the other classes only that.
/// </summary>
internal sealed record DaemonSettings
{
    /// <summary>Default of <see cref="AdminSocket"/>.</summary>
    public const string DefaultAdminSocket = "/run/farm/farmd.sock";

    /// <summary>Default of <see cref="StateDirectory"/>.</summary>
    public const string DefaultStateDirectory = "/var/lib/farm";

    /// <summary>The cluster file's path, as given.</summary>
    public required string ClusterFile { get; init; }

    /// <summary>The parsed cluster file.</summary>
    public required ClusterConfig Cluster { get; init; }

    /// <summary>This node's entry of the cluster file.</summary>
    public required NodeConfig Self { get; init; }

    /// <summary>Modules found under <c>--modules</c> (empty without it).</summary>
    public IReadOnlyList<ModuleConfig> Modules { get; init; } = [];

    /// <summary>
    /// The folder of each module (<c>--modules DIR/NAME</c>, holding <c>farm.yaml</c>, <c>bin/</c> and custom checkers), by
    /// module name. A module without an entry (settings built by hand in tests) has no scripts and no custom checkers.
    /// </summary>
    public IReadOnlyDictionary<string, string> ModuleDirectories { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The modules folder (<c>--modules</c>), absolute, where <c>farmctl module install</c> puts bundles; null without one.</summary>
    public string? ModulesDirectory { get; init; }

    /// <summary>
    /// Modules that must not run on this node, by name, with the reason (their folder is not root's own, see
    /// <c>ModuleTrust</c>): they stay STOP/NotReady, get no data plane and refuse an admin start. Empty by default.
    /// </summary>
    public IReadOnlyDictionary<string, string> RefusedModules { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary><c>--allow-untrusted-modules</c>: a module folder that is not root's own runs anyway (with a warning), at start and on a folder reload.</summary>
    public bool AllowUntrustedModules { get; init; }

    /// <summary>Path of the admin Unix domain socket.</summary>
    public string AdminSocket { get; init; } = DefaultAdminSocket;

    /// <summary>The gid whose members may use the admin socket besides root (<c>--admin-group</c>), or null. Default null.</summary>
    public uint? AdminGroupId { get; init; }

    /// <summary>Directory of the rolling log file, or null for console only.</summary>
    public string? LogDirectory { get; init; }

    /// <summary>The least severe level farmd logs (<c>--log-level</c>). Default Information.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// What became of farmd's CPU priority at start (<see cref="CpuPriority"/>); the default (not raised) for in-process
    /// hosts, which must not change their test runner's priority.
    /// </summary>
    public CpuPriority Priority { get; init; } = CpuPriority.NotRaised;

    /// <summary>
    /// Whether farmd programs the data plane. Required (no default): code that builds settings by hand (tests) must say
    /// so, because the kernel mode changes the host it runs on.
    /// </summary>
    public required DataPlaneMode DataPlane { get; init; }

    /// <summary>Where the data plane records each change before making it (VIP state files), to undo it after a crash.</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory;

    /// <summary>
    /// Addresses to use instead of the cluster file's, for binding and dialing (<c>--address-map</c>): lets tests run
    /// several nodes on loopback addresses, which the cluster file rightly refuses. Empty in production.
    /// </summary>
    public IReadOnlyDictionary<IPAddress, IPAddress> AddressMap { get; init; } = new Dictionary<IPAddress, IPAddress>();

    /// <summary>
    /// This run's incarnation: unix milliseconds at start, or one more than the last run's (kept in the state folder)
    /// when the clock is not ahead of it, so a restart always has a larger one.
    /// </summary>
    public required long Incarnation { get; init; }

    /// <summary>The systemd notification socket (<c>$NOTIFY_SOCKET</c>), or null.</summary>
    public string? NotifySocket { get; init; }

    /// <summary>How long a graceful stop waits for this node's buckets to move away.</summary>
    public TimeSpan LeaveTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The farm protocol versions this node speaks: this release's, unless the test-only environment variable
    /// <c>FARM_TEST_PROTOCOL</c> ("N" or "OLDEST-NEWEST") plays another release (rolling-upgrade tests).
    /// </summary>
    public ProtocolRange Protocols { get; init; } = ProtocolRange.Parse(Environment.GetEnvironmentVariable("FARM_TEST_PROTOCOL")) ?? ProtocolRange.Current;

    /// <summary>
    /// Whether this node serves the heartbeat stream (farm.v1.Membership/HeartbeatStream). Always, unless the test-only
    /// environment variable <c>FARM_TEST_NO_HEARTBEAT_STREAM=1</c> plays a release from before it (peers then fall back
    /// to unary heartbeats).
    /// </summary>
    public bool ServesHeartbeatStream { get; init; } = Environment.GetEnvironmentVariable("FARM_TEST_NO_HEARTBEAT_STREAM") != "1";

    /// <summary>
    /// Whether this node sends and serves heartbeats as UDP datagrams where the path carries them (docs/architecture.md,
    /// "Heartbeat datagrams"; never with TLS). Always, unless the test-only environment variable
    /// <c>FARM_TEST_NO_HEARTBEAT_DATAGRAMS=1</c> plays a release from before them (peers then keep to the stream).
    /// </summary>
    public bool HeartbeatDatagrams { get; init; } = Environment.GetEnvironmentVariable("FARM_TEST_NO_HEARTBEAT_DATAGRAMS") != "1";

    /// <summary>
    /// Whether this node answers quiet heartbeats too (docs/architecture.md, "Quiet heartbeats"). Never, unless the
    /// test-only environment variable <c>FARM_TEST_ANSWER_EVERY_HEARTBEAT=1</c> plays a release from before them.
    /// </summary>
    public bool AnswersEveryHeartbeat { get; init; } = Environment.GetEnvironmentVariable("FARM_TEST_ANSWER_EVERY_HEARTBEAT") == "1";

    /// <summary>The cluster's nodes as the admin controls reach them.</summary>
    public NodeRoster BindRoster() =>
        new(Self.Name, [.. Cluster.Nodes.Select(n => new NodeRoster.Entry(n.Name, EndpointsOf(n)))]);

    /// <summary>What the module host needs.</summary>
    public ModuleHostingOptions BindModuleHosting() => new(Self.Name, Modules, ModuleDirectories, RefusedModules, LogDirectory, Priority.ChildAdjustment);

    /// <summary>What the cluster file's reloader needs.</summary>
    public ClusterFileOptions BindClusterFile() => new(ClusterFile, Cluster, Self.Name);

    /// <summary>What the console port and its certificate need.</summary>
    public ConsoleOptions BindConsole() =>
        new(Cluster.Name, Self.Name, [.. Self.Addresses.Select(Map)], Cluster.ConsolePort, Cluster.ConsoleTls, StateDirectory, Cluster.ConsoleUsers);

    /// <summary>The address to bind or dial for a configured address.</summary>
    public IPAddress Map(IPAddress configured) => AddressMap.TryGetValue(configured, out var mapped) ? mapped : configured;

    /// <summary>Endpoints of a node per LAN, after <see cref="AddressMap"/>.</summary>
    public IReadOnlyList<IPEndPoint> EndpointsOf(NodeConfig node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return [.. node.Addresses.Select(a => new IPEndPoint(Map(a), Cluster.GrpcPort))];
    }
}
