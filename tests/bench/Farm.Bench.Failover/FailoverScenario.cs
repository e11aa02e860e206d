using System.Text.Json;
using Farm.Core.Hashing;
using Farm.Testing.Topology;

namespace Farm.Bench.Failover;

/// <summary>
/// The failover benchmark's scenario of <see cref="FarmFixture"/>: three farmd with their data plane (IPv4 only), one
/// client namespace holding the client addresses and the split-brain witness (used under that policy), and in every
/// node namespace the app, a <see cref="NameServer"/> answering with the node's name, that lives and dies with its
/// farmd. One module "web": VIP 198.18.0.100, TCP 8080 by client address, 256 buckets, drain 1 s.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class FailoverScenario
{
    public const string ModuleName = "web";
    public const int Port = 8080;
    public const int NodeCount = 3;

    /// <summary>The module's drain: short, so a repetition settles quickly after the failed node rejoins.</summary>
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(1);

    public static readonly IPAddress Vip = FarmModules.Vip4;

    /// <summary>The witness: an extra address of the client namespace, so an isolated node loses it and its peers keep it.</summary>
    public static readonly IPAddress Witness = IPAddress.Parse("198.18.1.250");

    /// <summary>How long a started farmd may take until it answers (the machine is loaded by the benchmark itself).</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    public static string NodeName(int index) => FarmFixture.NodeName(index);

    /// <summary>Starts the three nodes at once, as after a power cut, and waits until each farmd answers (not until they settle).</summary>
    public static Task<FarmFixture> StartAsync(TimingSettings timing, SplitBrainPolicy policy, int clientAddresses, string farmdPath, CancellationToken cancellationToken) =>
        FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = "farm-failover",
                Key = "farm-failover-bench-key-0123456789abcdef",
                Topology = new TopologyOptions { Nodes = NodeCount, Clients = 1, AddressesPerClient = clientAddresses, IPv6 = false },
                Heartbeat = timing.Heartbeat,
                SplitBrain = FarmFixtureOptions.SplitBrainOf(policy, Witness),
                Witness = Witness,
                Modules = [FarmModules.OnTopology(ModuleName, [Vip], [FarmModules.Port(TransportProtocol.Tcp, Port)], Drain)],
                AppTcpPorts = [Port],
                AppFollowsDaemon = true,
                ReadyTimeout = ReadyTimeout,
                FarmdPath = farmdPath,
            },
            cancellationToken);

    /// <summary>The bucket of a client address (the module's only rule hashes the address).</summary>
    public static int BucketOf(this FarmFixture farm, IPAddress client)
    {
        ArgumentNullException.ThrowIfNull(farm);
        return farm.Hasher.BucketOf(new ClientKey(client), Affinity.ClientIp);
    }

    /// <summary>
    /// Waits until all nodes form the installed view with one epoch and their kernels hold a lease and settled bucket
    /// sets that split all buckets without overlap or gap. Returns the owner (node index) of each bucket.
    /// </summary>
    public static Task<int[]> WaitSettledAsync(this FarmFixture farm, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(farm);
        return farm.WaitSettledAsync([.. Enumerable.Range(0, NodeCount)], ModuleName, timeout, TimeSpan.FromMilliseconds(50), cancellationToken);
    }

    /// <summary>Node index of each node's Ethernet address (SYN-ACKs leave with it).</summary>
    public static async Task<IReadOnlyDictionary<long, sbyte>> ReadMacsAsync(this FarmFixture farm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(farm);
        var map = new Dictionary<long, sbyte>();
        for (int i = 0; i < farm.NodeCount; i++)
        {
            var node = farm.Nodes[i];
            var result = await node.Namespace.IpAsync(["-j", "link", "show", "dev", node.InterfaceName], cancellationToken);
            using var json = JsonDocument.Parse(result.StandardOutput);
            string mac = json.RootElement[0].GetProperty("address").GetString() ?? throw new FormatException("ip -j link: no address");
            byte[] bytes = [.. mac.Split(':').Select(b => byte.Parse(b, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];
            map[SynAckCapture.MacKey(bytes)] = (sbyte)i;
        }

        return map;
    }
}
