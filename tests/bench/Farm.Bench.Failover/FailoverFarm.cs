using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.Testing.Farmd;
using Farm.Testing.Topology;

namespace Farm.Bench.Failover;

/// <summary>
/// Three real farmd with their data plane, each in a node namespace of a <see cref="FarmTopology"/> (IPv4 only), one
/// client namespace holding the client addresses (and the split-brain witness, under that policy), and in every node namespace the app: a
/// <see cref="NameServer"/> answering with the node's name. One module "web": VIP 198.18.0.100, TCP 8080 by client
/// address, 256 buckets, drain 1 s. Can fail a node three ways and restore it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class FailoverFarm : IAsyncDisposable
{
    public const string ModuleName = "web";
    public const int Port = 8080;
    public const int NodeCount = 3;

    /// <summary>The module's drain: short, so a repetition settles quickly after the failed node rejoins.</summary>
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(1);

    public static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");

    /// <summary>The witness: an extra address of the client namespace, so an isolated node loses it and its peers keep it.</summary>
    public static readonly IPAddress Witness = IPAddress.Parse("198.18.1.250");

    private readonly FarmdGroup daemons = new(NodeCount);
    private readonly NameServer?[] servers = new NameServer?[NodeCount];
    private LinkControl? links;

    private FarmTopology Topology { get; }

    private FailoverFarm(FarmTopology topology, string root, ClusterConfig cluster, ModuleConfig module)
    {
        Topology = topology;
        Root = root;
        Cluster = cluster;
        Module = module;
        Hasher = new BucketHasher(module.Buckets, module.Seed);
    }

    public string Root { get; }

    public ClusterConfig Cluster { get; }

    public ModuleConfig Module { get; }

    public BucketHasher Hasher { get; }

    public TopologyHost Client => Topology.Clients[0];

    /// <summary>Node index of each node's Ethernet address (SYN-ACKs leave with it).</summary>
    public IReadOnlyDictionary<long, sbyte> NodeOfMac { get; private set; } = new Dictionary<long, sbyte>();

    public static string NodeName(int index) => FarmdGroup.NodeName(index);

    public static async Task<FailoverFarm> StartAsync(TimingSettings timing, SplitBrainPolicy policy, int clientAddresses, CancellationToken cancellationToken)
    {
        var topology = await FarmTopology.CreateAsync(
            new TopologyOptions { Nodes = NodeCount, Clients = 1, AddressesPerClient = clientAddresses, IPv6 = false }, cancellationToken: cancellationToken);
        FailoverFarm? farm = null;
        try
        {
            var client = topology.Clients[0];
            await client.Namespace.AddAddressAsync(client.InterfaceName, Witness, FarmTopology.PrefixLength4, cancellationToken);
            string root = Directory.CreateTempSubdirectory("farm-failover-").FullName;
            var cluster = new ClusterConfig
            {
                Name = "farm-failover",
                Key = "farm-failover-bench-key-0123456789abcdef",
                Heartbeat = timing.Heartbeat,
                SplitBrain = policy == SplitBrainPolicy.Witness
                    ? new SplitBrainOptions { Policy = policy, Witness = Witness }
                    : new SplitBrainOptions { Policy = policy },
                Nodes = [.. Enumerable.Range(0, NodeCount).Select(i => new NodeConfig { Name = NodeName(i), Addresses = [FarmTopology.NodeAddress4(i)] })],
            };
            var module = new ModuleConfig
            {
                Name = ModuleName,
                Vips = [Vip],
                Interface = topology.Nodes[0].InterfaceName,
                Buckets = 256,
                Timeouts = new ModuleTimeoutOptions { Drain = Drain },
                Rules = [new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = Port, LastPort = Port, Affinity = Affinity.ClientIp }],
            };
            FarmConfigFiles.WriteCluster(cluster, Path.Combine(root, "cluster.yaml"));
            FarmConfigFiles.WriteModule(module, Path.Combine(root, "modules"));
            farm = new FailoverFarm(topology, root, cluster, module);
            farm.NodeOfMac = await ReadMacsAsync(topology, cancellationToken);

            // All three at once, as after a power cut: they form one view together.
            for (int i = 0; i < NodeCount; i++)
            {
                await farm.StartNodeAsync(i);
            }

            for (int i = 0; i < NodeCount; i++)
            {
                await farm.Daemon(i).WaitForReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            }

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

    /// <summary>The bucket of a client address (the module's only rule hashes the address).</summary>
    public int BucketOf(IPAddress client) => Hasher.BucketOf(new ClientKey(client), Affinity.ClientIp);

    /// <summary>Starts the app and farmd of node <paramref name="index"/> (farmd returns at once; see <see cref="FarmdProcess.WaitForReadyAsync"/>).</summary>
    public async Task StartNodeAsync(int index)
    {
        var node = Topology.Nodes[index];
        servers[index] ??= await NameServer.StartAsync(node.Namespace, NodeName(index), [Port], []);
        daemons.Start(index, FarmdOptions.UnderRoot(Root, NodeName(index), node.Namespace));
    }

    public FarmdProcess Daemon(int index) => daemons[index];

    /// <summary>SIGKILL to farmd, then the app dies too (its name server closes every socket, as the kernel does for a killed process).</summary>
    public async Task KillNodeAsync(int index)
    {
        Signals.Send(Daemon(index).Id, Signals.Kill);
        if (servers[index] is { } server)
        {
            servers[index] = null;
            await server.DisposeAsync();
        }
    }

    /// <summary>After <see cref="KillNodeAsync"/>: waits for the process to be gone and keeps its output.</summary>
    public async Task ForgetKilledAsync(int index)
    {
        await Daemon(index).WaitForExitAsync(TimeSpan.FromSeconds(10));
        await daemons.ForgetAsync(index, "killed");
    }

    /// <summary>SIGSTOP (<paramref name="stop"/>) or SIGCONT to farmd of node <paramref name="index"/>; the app keeps running.</summary>
    public void SignalDaemon(int index, bool stop) => Signals.Send(Daemon(index).Id, stop ? Signals.Stop : Signals.Continue);

    /// <summary>Sets the bridge-side end of node <paramref name="index"/>'s veth down or up (the node sees its carrier go).</summary>
    public Task SetLinkAsync(int index, bool up, CancellationToken cancellationToken)
    {
        links ??= LinkControl.Start(Topology.Bridge);
        return links.SetAsync(string.Create(CultureInfo.InvariantCulture, $"n{index}"), up, cancellationToken);
    }

    /// <summary>Starts the link control ahead of a failure (so the failure does not wait for a process to start).</summary>
    public void PrepareLinkControl() => links ??= LinkControl.Start(Topology.Bridge);

    /// <summary>
    /// Waits until all nodes form the installed view with one epoch and their kernels hold a lease and settled bucket
    /// sets that split all buckets without overlap or gap. Returns the owner (node index) of each bucket.
    /// </summary>
    public async Task<int[]> WaitSettledAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        long start = time.GetTimestamp();
        string last = "nothing read yet";
        while (time.GetElapsedTime(start) < timeout)
        {
            (int[]? owners, last) = await TryReadSettledAsync(cancellationToken);
            if (owners is not null)
            {
                return owners;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }

        throw new TimeoutException($"The farm did not settle within {timeout.TotalSeconds} s. Last: {last}\n{Outputs()}");
    }

    /// <summary>Everything the daemons printed (for failure messages).</summary>
    public string Outputs() => daemons.Outputs();

    public async ValueTask DisposeAsync()
    {
        if (links is not null)
        {
            await links.DisposeAsync();
        }

        await daemons.DisposeAsync(); // SIGKILL also ends a stopped process
        foreach (var server in servers)
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        await Topology.DisposeAsync();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private static async Task<IReadOnlyDictionary<long, sbyte>> ReadMacsAsync(FarmTopology topology, CancellationToken cancellationToken)
    {
        var map = new Dictionary<long, sbyte>();
        for (int i = 0; i < topology.Nodes.Count; i++)
        {
            var node = topology.Nodes[i];
            var result = await node.Namespace.IpAsync(["-j", "link", "show", "dev", node.InterfaceName], cancellationToken);
            using var json = JsonDocument.Parse(result.StandardOutput);
            string mac = json.RootElement[0].GetProperty("address").GetString() ?? throw new FormatException("ip -j link: no address");
            byte[] bytes = [.. mac.Split(':').Select(b => byte.Parse(b, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];
            map[SynAckCapture.MacKey(bytes)] = (sbyte)i;
        }

        return map;
    }

    private async Task<(int[]? Owners, string Last)> TryReadSettledAsync(CancellationToken cancellationToken)
    {
        string[] names = [.. Enumerable.Range(0, NodeCount).Select(NodeName)];
        var (reports, problem) = await daemons.TryGetStatusesAsync(Enumerable.Range(0, NodeCount), cancellationToken);
        if (reports is null)
        {
            return (null, problem);
        }

        foreach (var report in reports)
        {
            string[] inView = [.. report.Nodes.Where(n => n.InView).Select(n => n.Name).Order(StringComparer.Ordinal)];
            if (!inView.SequenceEqual(names))
            {
                return (null, $"{report.Node} has view {report.InstalledEpoch} with [{string.Join(", ", inView)}]");
            }
        }

        if (reports.Select(r => r.InstalledEpoch).Distinct().Count() != 1)
        {
            return (null, "epochs differ: " + string.Join(", ", reports.Select(r => r.InstalledEpoch)));
        }

        return await FarmdGroup.TrySplitBucketsAsync(
            Enumerable.Range(0, NodeCount).Select(i => (i, Topology.Nodes[i].Namespace)), ModuleName, Module.Buckets, cancellationToken);
    }
}
