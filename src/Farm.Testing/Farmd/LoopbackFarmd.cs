using Farm.Core.Config;

namespace Farm.Testing.Farmd;

/// <summary>
/// Real farmd processes n1, n2, ... on 127.0.0.1, 127.0.0.2, ..., without data plane: the cluster file says
/// 198.18.0.i and farmd's address map binds and dials loopback instead. Their files live in one temporary
/// <see cref="Directory"/>; disposing kills every daemon and deletes it (also after a failed start).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LoopbackFarmd : IAsyncDisposable
{
    private readonly List<FarmdProcess> processes = [];

    /// <summary>A new temporary folder (named from <paramref name="prefix"/>) and free gRPC and console ports on <paramref name="nodes"/> loopback addresses; no daemon yet.</summary>
    public LoopbackFarmd(string prefix, int nodes = 3)
    {
        NodeCount = nodes;
        Directory = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;
        Port = LoopbackPorts.FreeOn(nodes, consecutive: 2);
    }

    public int NodeCount { get; }

    public string Directory { get; }

    /// <summary>The gRPC port; the console's is the next one.</summary>
    public int Port { get; }

    /// <summary>The daemons started, in order.</summary>
    public IReadOnlyList<FarmdProcess> Processes => processes;

    /// <summary>Heartbeats fast enough for tests: 100 ms, a loss detected after 1 s, a 600 ms lease.</summary>
    public static HeartbeatOptions FastHeartbeat { get; } = new()
    {
        Interval = TimeSpan.FromMilliseconds(100),
        DetectionTimeout = TimeSpan.FromSeconds(1),
        Lease = TimeSpan.FromMilliseconds(600),
    };

    /// <summary>n1 ... n<paramref name="count"/> at 198.18.0.1 onwards.</summary>
    public static IReadOnlyList<NodeConfig> NodeConfigs(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new NodeConfig { Name = NodeName(i), Addresses = [IPAddress.Parse(Invariant($"198.18.0.{i}"))] })];

    /// <summary>farmd's address map for <paramref name="count"/> nodes: 198.18.0.i to 127.0.0.i.</summary>
    public static IReadOnlyDictionary<IPAddress, IPAddress> AddressMap(int count) =>
        Enumerable.Range(1, count).ToDictionary(i => IPAddress.Parse(Invariant($"198.18.0.{i}")), i => IPAddress.Parse(Invariant($"127.0.0.{i}")));

    /// <summary>The name of node <paramref name="number"/> (from 1): n1, n2, ...</summary>
    public static string NodeName(int number) => Invariant($"n{number}");

    /// <summary>A cluster of this farm's nodes and ports with <see cref="FastHeartbeat"/>.</summary>
    public ClusterConfig Cluster(string name, string key) => new()
    {
        Name = name,
        Key = key,
        GrpcPort = Port,
        ConsolePort = Port + 1,
        Heartbeat = FastHeartbeat,
        Nodes = NodeConfigs(NodeCount),
    };

    /// <summary>The folder of the modules' files: <c>modules/</c> in <see cref="Directory"/>.</summary>
    public string ModulesDirectory => Path.Combine(Directory, "modules");

    /// <summary>
    /// A module of one TCP rule (port 80, client_ip) on VIP 198.18.100.1 at eth0: enough for farmd's membership and
    /// module engine (the data plane is off here).
    /// </summary>
    public static ModuleConfig Module(string name, int buckets) => new()
    {
        Name = name,
        Vips = [IPAddress.Parse("198.18.100.1")],
        Interface = "eth0",
        Buckets = buckets,
        Rules = [new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = 80, LastPort = 80 }],
    };

    /// <summary>Writes <paramref name="cluster"/> as <paramref name="fileName"/> in <see cref="Directory"/>; returns its path.</summary>
    public string WriteCluster(ClusterConfig cluster, string fileName = "cluster.yaml") =>
        FarmConfigFiles.WriteCluster(cluster, Path.Combine(Directory, fileName));

    /// <summary>Writes <paramref name="module"/> under <see cref="ModulesDirectory"/>; returns that folder.</summary>
    public string WriteModule(ModuleConfig module)
    {
        FarmConfigFiles.WriteModule(module, ModulesDirectory);
        return ModulesDirectory;
    }

    /// <summary>Starts farmd as <paramref name="node"/> with its admin socket in <see cref="Directory"/>.</summary>
    public FarmdProcess Start(string node, string clusterFile, string? modules = null)
    {
        var process = FarmdProcess.Start(new FarmdOptions
        {
            ClusterFile = clusterFile,
            Node = node,
            AdminSocket = Path.Combine(Directory, node + ".sock"),
            ModulesDirectory = modules,
            AddressMap = AddressMap(NodeCount),
        });
        processes.Add(process);
        return process;
    }

    /// <summary>Starts every node with the same cluster file and waits until each is ready.</summary>
    public async Task StartAllAsync(string clusterFile, string? modules, CancellationToken cancellationToken)
    {
        for (int i = 1; i <= NodeCount; i++)
        {
            Start(NodeName(i), clusterFile, modules);
        }

        await WaitForReadyAsync(cancellationToken);
    }

    /// <summary>Waits until every daemon started is ready (20 s each).</summary>
    public Task WaitForReadyAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(processes.Select(p => p.WaitForReadyAsync(TimeSpan.FromSeconds(20), cancellationToken)));

    /// <summary>For a test that failed: what every daemon printed, to <paramref name="writeLine"/> (the test's log).</summary>
    public void WriteOutputs(Action<string> writeLine) => ScratchRun.WriteOutputs(processes, p => p.Output, writeLine);

    public async ValueTask DisposeAsync() => await ScratchRun.EndAsync(processes, Directory);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
