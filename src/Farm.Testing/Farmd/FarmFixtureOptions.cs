using Farm.Core.Config;
using Farm.Testing.Topology;

namespace Farm.Testing.Farmd;

/// <summary>What a <see cref="FarmFixture"/> builds: the topology, the cluster and module files, the app, and how it starts.</summary>
public sealed record FarmFixtureOptions
{
    private readonly string? key;

    /// <summary>The cluster's name (also the prefix of the temporary root folder). Required.</summary>
    public required string Name { get; init; }

    /// <summary>The cluster key. Default: the name followed by <c>-cluster-key-0123456789abcdef</c>.</summary>
    public string Key
    {
        get => key ?? Name + "-cluster-key-0123456789abcdef";
        init => key = value;
    }

    /// <summary>The namespaces: nodes (one farmd each, named <c>node0</c>, <c>node1</c>...), clients and their addresses. Default: <see cref="TopologyOptions"/>' defaults.</summary>
    public TopologyOptions Topology { get; init; } = new();

    /// <summary>
    /// Heartbeat timings. Default: what farmd ships (50 ms / 300 ms / 150 ms: interval, detection timeout, lease), so the
    /// end-to-end tests prove the timings users run.
    /// </summary>
    public HeartbeatOptions Heartbeat { get; init; } = new();

    /// <summary>The split-brain policy of the cluster file. Default none.</summary>
    public SplitBrainOptions SplitBrain { get; init; } = new();

    /// <summary>The split-brain options of <paramref name="policy"/>: the witness address only under the witness policy.</summary>
    public static SplitBrainOptions SplitBrainOf(SplitBrainPolicy policy, IPAddress witness) =>
        policy == SplitBrainPolicy.Witness ? new SplitBrainOptions { Policy = policy, Witness = witness } : new SplitBrainOptions { Policy = policy };

    /// <summary>An extra address given to the first client namespace (a split-brain witness a test can take away), or null. Default null.</summary>
    public IPAddress? Witness { get; init; }

    /// <summary>
    /// Give the cluster a second heartbeat LAN (<c>lans: [primary, secondary]</c>): node <c>i</c> gets
    /// <see cref="FarmFixture.SecondLanAddress"/> on its interface too. The two LANs share one link, so a test cuts or
    /// degrades one of them with nft rules on its addresses, not by link state. Default false: one LAN.
    /// </summary>
    public bool SecondLan { get; init; }

    /// <summary>The priority of node <c>i</c> in the cluster file, or null for the default. Default null.</summary>
    public Func<int, int>? Priority { get; init; }

    /// <summary>
    /// The modules written to the shared <c>modules/</c> folder, as given (a node's interface is
    /// <see cref="TopologyOptions.InterfaceName"/>); the first one is <see cref="FarmFixture.Module"/>. Default none.
    /// </summary>
    public IReadOnlyList<ModuleConfig> Modules { get; init; } = [];

    /// <summary>
    /// When set, each node gets its own <c>NODE/modules</c> and <c>NODE/log</c> folders (as separate machines would) and this
    /// writes node <c>i</c>'s module folders before any farmd starts (arguments: the fixture's root, the node index).
    /// Default null: every node reads the shared <c>modules/</c>.
    /// </summary>
    public Action<string, int>? WriteNodeModules { get; init; }

    /// <summary>The app in each node namespace: a <see cref="NameServer"/> on these TCP ports (any address). Default none.</summary>
    public IReadOnlyList<int> AppTcpPorts { get; init; } = [];

    /// <summary>The app's UDP endpoints (VIP and port). Default none.</summary>
    public IReadOnlyList<IPEndPoint> AppUdpEndpoints { get; init; } = [];

    /// <summary>
    /// True: a node's app starts with its farmd (<see cref="FarmFixture.StartNodeAsync"/>) and can die with it
    /// (<see cref="FarmFixture.StopAppAsync"/>). False: every node's app starts before any farmd and runs to the end. Default false.
    /// </summary>
    public bool AppFollowsDaemon { get; init; }

    /// <summary>
    /// The web console's users, written to <c>console-users</c> in the fixture's root and named by the cluster file's
    /// <c>console_users</c> (the console then needs a login). Default none: no users file, a read-only console.
    /// </summary>
    public IReadOnlyList<Farm.Protocol.Security.ConsoleUser> ConsoleUsers { get; init; } = [];

    /// <summary>Take a <see cref="NamespaceSnapshot"/> of every node namespace before any farmd runs there. Default false.</summary>
    public bool TakeBaselines { get; init; }

    /// <summary>How many nodes (the first ones) get a farmd at start, all at once as after a power cut. Default: all.</summary>
    public int? Running { get; init; }

    /// <summary>The farmd every node runs (see <see cref="FarmdOptions.FarmdPath"/>). Default: the build output next to the test assembly.</summary>
    public string FarmdPath { get; init; } = FarmdOptions.DefaultFarmdPath;

    /// <summary>How long each started farmd may take until its admin socket answers. Default 30 s.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Waits for the farm the scenario expects after the daemons answer (it fails the start when it throws). Default none.</summary>
    public Func<FarmFixture, CancellationToken, Task>? Settle { get; init; }

    /// <summary>Runs at dispose after every farmd was killed, before the namespaces go (e.g. to end what scripts started). Default none.</summary>
    public Action<FarmFixture>? AfterDaemonsKilled { get; init; }
}
