using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.Protocol.V1;
using Farm.Testing.Topology;

namespace Farm.Testing.Farmd;

/// <summary>
/// Up to four real farmd processes in node namespaces of one <see cref="FarmTopology"/> (plus one client namespace
/// with 200 IPv4 source addresses), serving module "web" (policy none) with a <see cref="NameServer"/> in every node
/// namespace: TCP 8080 (client_ip), TCP 8081 (client_ip_port) and UDP 5353 (client_ip). Built per test, because the
/// scenarios change membership, drains and weights. The module's drain timeout is the caller's choice. Shared by the
/// rebalancing end-to-end tests and the rebalance benchmark.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RebalanceFarm : IAsyncDisposable
{
    public const string ModuleName = "web";
    public const int TcpPort = 8080;
    public const int TcpPortPort = 8081;
    public const int UdpPort = 5353;
    public const int NodeCount = 4;
    public const int ClientAddresses = 200;
    public const int Buckets = 256;

    public static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");

    private readonly FarmdGroup daemons = new(NodeCount);
    private readonly List<NameServer> servers = [];

    private RebalanceFarm(FarmTopology topology, string root, ClusterConfig cluster, ModuleConfig module)
    {
        Topology = topology;
        Root = root;
        Cluster = cluster;
        Module = module;
        Hasher = new BucketHasher(module.Buckets, module.Seed);
    }

    public FarmTopology Topology { get; }

    public string Root { get; }

    public ClusterConfig Cluster { get; private set; }

    public ModuleConfig Module { get; }

    public BucketHasher Hasher { get; }

    public TopologyHost Client => Topology.Clients[0];

    public TimeSpan Interval => Cluster.Heartbeat.Interval;

    public string ClusterFile => Path.Combine(Root, "cluster.yaml");

    public static string NodeName(int index) => FarmdGroup.NodeName(index);

    public FarmdProcess Daemon(int index) => daemons[index];

    public bool IsRunning(int index) => daemons.IsRunning(index);

    /// <summary>Builds the topology and the files and starts farmd on nodes 0..<paramref name="running"/>-1 (settled).</summary>
    public static async Task<RebalanceFarm> StartAsync(int running, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        var topology = await FarmTopology.CreateAsync(
            new TopologyOptions { Nodes = NodeCount, Clients = 1, AddressesPerClient = ClientAddresses }, cancellationToken: cancellationToken);
        RebalanceFarm? farm = null;
        try
        {
            string root = Directory.CreateTempSubdirectory("farm-rebalance-").FullName;
            var cluster = new ClusterConfig
            {
                Name = "farm-rebalance",
                Key = "farm-rebalance-cluster-key-0123456789",
                Heartbeat = new HeartbeatOptions
                {
                    // Pinned like the other farmd fixtures: 600 long-lived sessions and four daemons share two cores.
                    Interval = TimeSpan.FromMilliseconds(100),
                    DetectionTimeout = TimeSpan.FromSeconds(1),
                    Lease = TimeSpan.FromMilliseconds(600),
                },
                Nodes = [.. Enumerable.Range(0, NodeCount).Select(i => new NodeConfig { Name = NodeName(i), Addresses = [FarmTopology.NodeAddress4(i)] })],
            };
            var module = new ModuleConfig
            {
                Name = ModuleName,
                Vips = [Vip],
                Interface = topology.Nodes[0].InterfaceName,
                Buckets = Buckets,
                Timeouts = new ModuleTimeoutOptions { Drain = drainTimeout },
                Rules =
                [
                    new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = TcpPort, LastPort = TcpPort, Affinity = Affinity.ClientIp },
                    new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = TcpPortPort, LastPort = TcpPortPort, Affinity = Affinity.ClientIpPort },
                    new PortRuleConfig { Protocol = TransportProtocol.Udp, FirstPort = UdpPort, LastPort = UdpPort, Affinity = Affinity.ClientIp },
                ],
            };
            FarmConfigFiles.WriteCluster(cluster, Path.Combine(root, "cluster.yaml"));
            FarmConfigFiles.WriteModule(module, Path.Combine(root, "modules"));
            farm = new RebalanceFarm(topology, root, cluster, module);
            for (int i = 0; i < NodeCount; i++)
            {
                farm.servers.Add(await NameServer.StartAsync(topology.Nodes[i].Namespace, NodeName(i), [TcpPort, TcpPortPort], [new IPEndPoint(Vip, UdpPort)]));
            }

            for (int i = 0; i < running; i++)
            {
                farm.StartDaemon(i);
            }

            for (int i = 0; i < running; i++)
            {
                await farm.Daemon(i).WaitForReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }

            await farm.WaitAcceptorsAsync(Enumerable.Range(0, running).ToDictionary(i => i, _ => 1), TimeSpan.FromSeconds(30), cancellationToken);
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

    public FarmdProcess StartDaemon(int index) =>
        daemons.Start(index, FarmdOptions.UnderRoot(Root, NodeName(index), Topology.Nodes[index].Namespace));

    public Task ForgetAsync(int index, string how) => daemons.ForgetAsync(index, how);

    /// <summary>Sources for a load or a check: every client address once, with <paramref name="port"/> (0: ephemeral).</summary>
    public IReadOnlyList<IPEndPoint> Sources(int port = 0) => [.. Client.Addresses4.Select(a => new IPEndPoint(a, port))];

    /// <summary>The bucket a client endpoint falls in for the rule of <paramref name="port"/>.</summary>
    public int BucketOf(IPEndPoint source, int port) =>
        port == TcpPortPort
            ? Hasher.BucketOf(new ClientKey(source.Address, (ushort)source.Port), Affinity.ClientIpPort)
            : Hasher.BucketOf(new ClientKey(source.Address), Affinity.ClientIp);

    /// <summary>
    /// Which node's kernel takes new flows of each bucket (owned, claimed or incoming), read from every running node;
    /// null and why when some bucket has no such node or two.
    /// </summary>
    public async Task<(string[]? Acceptors, string Problem)> TryReadAcceptorsAsync(CancellationToken cancellationToken)
    {
        var acceptors = new string?[Buckets];
        for (int i = 0; i < NodeCount; i++)
        {
            if (!daemons.IsRunning(i))
            {
                continue;
            }

            var table = await FilterTableState.ReadAsync(Topology.Nodes[i].Namespace, ModuleName, cancellationToken);
            if (table is null || !table.HasLease)
            {
                return (null, $"{NodeName(i)}: {table?.ToString() ?? "no table"}");
            }

            foreach (int b in table.AcceptingNewFlows)
            {
                if (acceptors[b] is { } other)
                {
                    return (null, $"bucket {b} takes new flows on {other} and {NodeName(i)}");
                }

                acceptors[b] = NodeName(i);
            }
        }

        int gaps = acceptors.Count(a => a is null);
        return gaps > 0 ? (null, $"{gaps} buckets take new flows nowhere") : ([.. acceptors.Select(a => a!)], "ok");
    }

    /// <summary>
    /// Waits until the running nodes' installed views agree on <paramref name="weights"/> (node index → relative weight;
    /// 0 for a drained node that still runs) and their kernels split new flows in those shares (±1 bucket). Returns the
    /// acceptor per bucket.
    /// </summary>
    public async Task<string[]> WaitAcceptorsAsync(IReadOnlyDictionary<int, int> weights, TimeSpan timeout, CancellationToken cancellationToken)
    {
        int total = weights.Values.Sum();
        var watch = Stopwatch.StartNew();
        string last = "nothing read yet";
        while (watch.Elapsed < timeout)
        {
            var (acceptors, problem) = await TryReadAcceptorsAsync(cancellationToken);
            last = problem;
            if (acceptors is not null)
            {
                var wrong = weights.Where(w =>
                {
                    int count = acceptors.Count(a => a == NodeName(w.Key));
                    double share = (double)Buckets * w.Value / total;
                    return count < Math.Floor(share) || count > Math.Ceiling(share);
                }).Select(w => $"{NodeName(w.Key)} takes {acceptors.Count(a => a == NodeName(w.Key))} buckets").ToList();
                if (wrong.Count == 0)
                {
                    return acceptors;
                }

                last = string.Join(", ", wrong);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, cancellationToken);
        }

        throw new TimeoutException($"The farm did not split new flows as {string.Join(", ", weights.Select(w => $"{NodeName(w.Key)}={w.Value}"))} within {timeout.TotalSeconds} s: {last}\n{Outputs()}");
    }

    /// <summary>
    /// Opens one new connection (or UDP flow) from every client address on <paramref name="port"/> with source port
    /// <paramref name="sourcePort"/> and returns the sources whose answer did not come from the bucket's acceptor.
    /// </summary>
    public async Task<IReadOnlyList<string>> MisroutedNewFlowsAsync(string[] acceptors, int port, int sourcePort)
    {
        var sources = Sources(sourcePort);
        var names = port == UdpPort
            ? await FarmClients.AskUdpAsync(Client.Namespace, sources, Vip, IPAddress.IPv6Loopback, port, TimeSpan.FromSeconds(4))
            : await FarmClients.AskTcpAsync(Client.Namespace, sources, Vip, IPAddress.IPv6Loopback, port, TimeSpan.FromSeconds(4));
        var wrong = new List<string>();
        for (int i = 0; i < sources.Count; i++)
        {
            string expected = acceptors[BucketOf(sources[i], port)];
            string? got = names[i]?.Trim();
            if (got != expected)
            {
                wrong.Add($"{sources[i]} -> {got ?? "no answer"} (expected {expected})");
            }
        }

        return wrong;
    }

    /// <summary>Drains or resumes node <paramref name="index"/> through node <paramref name="via"/>'s admin socket (as farmctl does).</summary>
    public async Task<DrainAnswer> DrainAsync(int index, DrainAction action, int via, CancellationToken cancellationToken)
    {
        using var admin = daemons[via].CreateAdminClient();
        return await admin.DrainAsync(NodeName(index), action, cancellationToken);
    }

    /// <summary>Writes the cluster file with node <paramref name="index"/>'s weight and a higher version, and applies it live through node <paramref name="via"/>.</summary>
    public async Task<ConfigApplyAnswer> SetWeightAsync(int index, int weight, int via, CancellationToken cancellationToken)
    {
        Cluster = Cluster with
        {
            Version = Cluster.Version + 1,
            Nodes = [.. Cluster.Nodes.Select((n, i) => i == index ? n with { Weight = weight } : n)],
        };
        string path = Path.Combine(Root, "cluster-next.yaml");
        FarmConfigFiles.WriteCluster(Cluster, path);
        using var admin = daemons[via].CreateAdminClient();
        return await admin.ApplyConfigAsync(await File.ReadAllTextAsync(path, cancellationToken), path, cancellationToken);
    }

    /// <summary>The drain state and progress a node reports about itself.</summary>
    public async Task<(int Draining, int Incoming)> HandoverOfAsync(int index, CancellationToken cancellationToken)
    {
        using var admin = daemons[index].CreateAdminClient();
        var report = await admin.GetStatusAsync(cancellationToken);
        var self = report.Nodes.Single(n => n.IsSelf).Buckets.Single(b => b.Module == ModuleName);
        return (self.Draining, self.Incoming);
    }

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
}
