using System.Diagnostics;
using System.Net;
using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.Testing.Farmd;
using Farm.Testing.Topology;

namespace Farm.EndToEnd.Tests.Farmd;

/// <summary>
/// Three real farmd processes, each in its own node namespace of a <see cref="FarmTopology"/> (plus two client
/// namespaces with 150 IPv4 and 150 IPv6 source addresses each), serving one module "web" under the witness policy.
/// In every node namespace a <see cref="NameServer"/> answers with the node's name, so a client sees which node
/// accepted its packets. Built once per test class; tests that stop a daemon leave it to
/// <see cref="EnsureAllRunningAsync"/> to restart it.
/// </summary>
internal sealed class NamespaceFarm : IAsyncDisposable
{
    public const string ModuleName = "web";

    /// <summary>A second module whose interface exists on no node: its data plane fails to start everywhere.</summary>
    public const string BrokenModuleName = "broken";
    public const int ClientIpPort = 8080;
    public const int ClientIpPortPort = 8081;
    public const int UdpPort = 5353;
    public const int NodeCount = 3;
    public const int AddressesPerClient = 150;

    public static readonly IPAddress Vip4 = IPAddress.Parse("198.18.0.100");
    public static readonly IPAddress Vip6 = IPAddress.Parse("2001:db8::100");

    /// <summary>The split-brain witness: an extra address of client0 (tests remove it to lose the witness).</summary>
    public static readonly IPAddress Witness = IPAddress.Parse("198.18.1.250");

    private readonly FarmdGroup daemons = new(NodeCount);
    private readonly List<NameServer> servers = [];

    private NamespaceFarm(FarmTopology topology, string root, ClusterConfig cluster, ModuleConfig module, IReadOnlyList<string> baselines)
    {
        Topology = topology;
        Root = root;
        Cluster = cluster;
        Module = module;
        Baselines = baselines;
        Hasher = new BucketHasher(module.Buckets, module.Seed);
    }

    public FarmTopology Topology { get; }

    public string Root { get; }

    public ClusterConfig Cluster { get; }

    public ModuleConfig Module { get; }

    public BucketHasher Hasher { get; }

    /// <summary>Per node, <see cref="NamespaceSnapshot"/> of its namespace before farmd ever ran there.</summary>
    public IReadOnlyList<string> Baselines { get; }

    public IReadOnlyList<TopologyHost> Nodes => Topology.Nodes;

    public IReadOnlyList<NameServer> Servers => servers;

    public TimeSpan Lease => Cluster.Heartbeat.Lease;

    public static string NodeName(int index) => FarmdGroup.NodeName(index);

    /// <summary>The running daemon of node <paramref name="index"/>.</summary>
    public FarmdProcess Daemon(int index) => daemons[index];

    public string StateDirectory(int index) => Path.Combine(Root, NodeName(index), "state");

    public static async Task<NamespaceFarm> StartAsync(CancellationToken cancellationToken)
    {
        var topology = await FarmTopology.CreateAsync(
            new TopologyOptions { Nodes = NodeCount, Clients = 2, AddressesPerClient = AddressesPerClient }, cancellationToken: cancellationToken);
        NamespaceFarm? farm = null;
        try
        {
            var client0 = topology.Clients[0];
            await client0.Namespace.AddAddressAsync(client0.InterfaceName, Witness, FarmTopology.PrefixLength4, cancellationToken);

            var baselines = new List<string>();
            foreach (var node in topology.Nodes)
            {
                baselines.Add(await NamespaceSnapshot.TakeAsync(node.Namespace, node.InterfaceName, cancellationToken));
            }

            string root = Directory.CreateTempSubdirectory("farm-e2e-").FullName;
            var cluster = new ClusterConfig
            {
                Name = "farm-e2e",
                Key = "farm-e2e-cluster-key-0123456789abcdef",
                Heartbeat = new HeartbeatOptions
                {
                    Interval = TimeSpan.FromMilliseconds(100),
                    DetectionTimeout = TimeSpan.FromSeconds(1),
                    Lease = TimeSpan.FromMilliseconds(600),
                },
                SplitBrain = new SplitBrainOptions { Policy = SplitBrainPolicy.Witness, Witness = Witness },
                Nodes = [.. Enumerable.Range(0, NodeCount).Select(i => new NodeConfig { Name = NodeName(i), Addresses = [FarmTopology.NodeAddress4(i)] })],
            };
            var module = new ModuleConfig
            {
                Name = ModuleName,
                Vips = [Vip4, Vip6],
                Interface = topology.Nodes[0].InterfaceName,
                Buckets = 256,
                Timeouts = new ModuleTimeoutOptions { Drain = TimeSpan.FromSeconds(1) },
                Rules =
                [
                    new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = ClientIpPort, LastPort = ClientIpPort, Affinity = Affinity.ClientIp },
                    new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = ClientIpPortPort, LastPort = ClientIpPortPort, Affinity = Affinity.ClientIpPort },
                    new PortRuleConfig { Protocol = TransportProtocol.Udp, FirstPort = UdpPort, LastPort = UdpPort, Affinity = Affinity.ClientIp },
                ],
            };
            FarmConfigFiles.WriteCluster(cluster, Path.Combine(root, "cluster.yaml"));
            FarmConfigFiles.WriteModule(module, Path.Combine(root, "modules"));
            FarmConfigFiles.WriteModule(
                new ModuleConfig
                {
                    Name = BrokenModuleName,
                    Vips = [IPAddress.Parse("198.18.0.101")],
                    Interface = "eth9",
                    Buckets = 256,
                    Timeouts = new ModuleTimeoutOptions { Drain = TimeSpan.FromSeconds(1) }, // farmd uses the longest drain of all modules
                    Rules = [new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = 9090, LastPort = 9090 }],
                },
                Path.Combine(root, "modules"));

            farm = new NamespaceFarm(topology, root, cluster, module, baselines);
            for (int i = 0; i < NodeCount; i++)
            {
                var node = topology.Nodes[i];
                farm.servers.Add(await NameServer.StartAsync(
                    node.Namespace, NodeName(i), [ClientIpPort, ClientIpPortPort], [new IPEndPoint(Vip4, UdpPort), new IPEndPoint(Vip6, UdpPort)]));
            }

            // All three at once, as after a power cut: they must form one view together.
            for (int i = 0; i < NodeCount; i++)
            {
                farm.StartDaemon(i);
            }

            for (int i = 0; i < NodeCount; i++)
            {
                await farm.Daemon(i).WaitForReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }

            await farm.WaitSettledAsync([0, 1, 2], TimeSpan.FromSeconds(30), cancellationToken);
            return farm;
        }
        catch
        {
            if (farm is not null)
            {
                await farm.DisposeAsync();
            }
            else
            {
                await topology.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// Starts farmd on node <paramref name="index"/> (its admin socket, state and logs under <see cref="Root"/>), with the
    /// shared modules folder or <paramref name="modulesDirectory"/> (a node whose module files differ).
    /// </summary>
    public FarmdProcess StartDaemon(int index, string? modulesDirectory = null)
    {
        if (daemons.IsRunning(index))
        {
            throw new InvalidOperationException($"node{index} already runs farmd.");
        }

        var options = FarmdOptions.UnderRoot(Root, NodeName(index), Nodes[index].Namespace);
        return daemons.Start(index, modulesDirectory is null ? options : options with { ModulesDirectory = modulesDirectory });
    }

    /// <summary>Keeps the output of a daemon that is gone (for failure reports) and forgets it.</summary>
    public Task ForgetAsync(int index) => daemons.ForgetAsync(index);

    /// <summary>Restarts every daemon that is not running and waits until all three serve one settled table.</summary>
    public async Task<string[]> EnsureAllRunningAsync(CancellationToken cancellationToken)
    {
        bool restarted = false;
        for (int i = 0; i < NodeCount; i++)
        {
            if (!daemons.IsRunning(i))
            {
                await ForgetAsync(i);
                StartDaemon(i);
                restarted = true;
            }
        }

        if (restarted)
        {
            for (int i = 0; i < NodeCount; i++)
            {
                await Daemon(i).WaitForReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }
        }

        return await WaitSettledAsync([0, 1, 2], TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>
    /// Waits until exactly <paramref name="members"/> form the installed view on each of them, and their kernels hold a
    /// lease and settled bucket sets (nothing incoming or draining) that split all buckets without overlap or gap, in
    /// the counts their status reports. Returns the owner's name per bucket: the live table, read from the kernels.
    /// </summary>
    public async Task<string[]> WaitSettledAsync(int[] members, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string[] names = [.. members.Select(NodeName).Order(StringComparer.Ordinal)];
        var watch = Stopwatch.StartNew();
        string last = "nothing read yet";
        while (watch.Elapsed < timeout)
        {
            (string[]? owners, last) = await TryReadSettledAsync(members, names, cancellationToken);
            if (owners is not null)
            {
                return owners;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, cancellationToken);
        }

        throw new TimeoutException($"The farm did not settle on {string.Join(", ", names)} within {timeout.TotalSeconds} s. Last: {last}\n{Outputs()}");
    }

    /// <summary>The kernel filter state of every node (null where the table does not exist).</summary>
    public Task<FilterTableState?[]> ReadTablesAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Nodes.Select(n => FilterTableState.ReadAsync(n.Namespace, ModuleName, cancellationToken)));

    /// <summary>The bucket of a client for a rule's affinity.</summary>
    public int BucketOf(IPEndPoint source, Affinity affinity) =>
        Hasher.BucketOf(affinity == Affinity.ClientIpPort ? new ClientKey(source.Address, (ushort)source.Port) : new ClientKey(source.Address), affinity);

    /// <summary>Everything every daemon printed (for failure messages).</summary>
    public string Outputs() => daemons.Outputs();

    public async ValueTask DisposeAsync()
    {
        await daemons.DisposeAsync();

        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }

        await Topology.DisposeAsync();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private async Task<(string[]? Owners, string Last)> TryReadSettledAsync(int[] members, string[] names, CancellationToken cancellationToken)
    {
        var (reports, problem) = await daemons.TryGetStatusesAsync(members, cancellationToken);
        if (reports is null)
        {
            return (null, problem);
        }

        foreach (var r in reports)
        {
            string[] inView = [.. r.Nodes.Where(n => n.InView).Select(n => n.Name).Order(StringComparer.Ordinal)];
            if (!inView.SequenceEqual(names))
            {
                return (null, $"{r.Node} has view {r.InstalledEpoch} with [{string.Join(", ", inView)}]");
            }
        }

        if (reports.Select(r => r.InstalledEpoch).Distinct().Count() != 1)
        {
            return (null, "epochs differ: " + string.Join(", ", reports.Select(r => $"{r.Node} {r.InstalledEpoch}")));
        }

        var reported = members.Zip(reports).ToDictionary(
            m => m.First, m => m.Second.Nodes.Single(n => n.IsSelf).Buckets.SingleOrDefault(b => b.Module == ModuleName)?.Buckets ?? -1);
        var (owners, last) = await FarmdGroup.TrySplitBucketsAsync(
            members.Select(i => (i, Nodes[i].Namespace)),
            ModuleName,
            Module.Buckets,
            cancellationToken,
            (i, table) => reported[i] != table.Owned.Count ? $"node{i} status says {reported[i]} buckets, its kernel owns {table.Owned.Count}" : null);
        return owners is null ? (null, last) : ([.. owners.Select(NodeName)], last);
    }
}
