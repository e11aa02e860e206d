using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.Protocol.V1;
using Farm.Testing.Topology;

namespace Farm.Testing.Farmd;

/// <summary>
/// The rebalancing scenario of <see cref="FarmFixture"/>, shared by the rebalancing end-to-end tests and the rebalance
/// benchmark: up to four farmd (policy none), one client namespace with 200 IPv4 source addresses, module "web" with
/// an app in every node namespace on TCP 8080 (client_ip), TCP 8081 (client_ip_port) and UDP 5353 (client_ip). Built
/// per test, because the scenarios change membership, drains and weights; the drain timeout is the caller's choice.
/// </summary>
[SupportedOSPlatform("linux")]
public static class RebalanceScenario
{
    public const string ModuleName = "web";
    public const int TcpPort = FarmModules.TcpPort;
    public const int TcpPortPort = FarmModules.TcpPortPort;
    public const int UdpPort = FarmModules.UdpPort;
    public const int NodeCount = 4;
    public const int ClientAddresses = 200;
    public const int Buckets = 256;

    public static readonly IPAddress Vip = FarmModules.Vip4;

    /// <summary>
    /// Starts farmd on nodes 0..<paramref name="running"/>-1 and waits until they split new flows evenly; with
    /// <paramref name="consoleUsers"/>, their web consoles need a login.
    /// </summary>
    public static Task<FarmFixture> StartAsync(
        int running, TimeSpan drainTimeout, CancellationToken cancellationToken, IReadOnlyList<Farm.Protocol.Security.ConsoleUser>? consoleUsers = null) =>
        FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = "farm-rebalance",
                Key = "farm-rebalance-cluster-key-0123456789",
                Topology = new TopologyOptions { Nodes = NodeCount, Clients = 1, AddressesPerClient = ClientAddresses },
                Modules = [FarmModules.OnTopology(ModuleName, [Vip], FarmModules.WebRules, drainTimeout, Buckets)],
                AppTcpPorts = [TcpPort, TcpPortPort],
                AppUdpEndpoints = [new IPEndPoint(Vip, UdpPort)],
                Running = running,
                ConsoleUsers = consoleUsers ?? [],
                Settle = (farm, ct) => farm.WaitAcceptorsAsync(Enumerable.Range(0, running).ToDictionary(i => i, _ => 1), TimeSpan.FromSeconds(30), ct),
            },
            cancellationToken);

    /// <summary>Sources for a load or a check: every client address once, with <paramref name="port"/> (0: ephemeral).</summary>
    public static IReadOnlyList<IPEndPoint> Sources(this FarmFixture farm, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(farm);
        return [.. farm.Client.Addresses4.Select(a => new IPEndPoint(a, port))];
    }

    /// <summary>The bucket a client endpoint falls in for the rule of <paramref name="port"/>.</summary>
    public static int BucketOfPort(this FarmFixture farm, IPEndPoint source, int port)
    {
        ArgumentNullException.ThrowIfNull(farm);
        return farm.BucketOf(source, port == TcpPortPort ? Affinity.ClientIpPort : Affinity.ClientIp);
    }

    /// <summary>See <see cref="FarmFixture.WaitAcceptorsAsync"/>, for module "web".</summary>
    public static Task<string[]> WaitAcceptorsAsync(this FarmFixture farm, IReadOnlyDictionary<int, int> weights, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(farm);
        return farm.WaitAcceptorsAsync(ModuleName, weights, timeout, cancellationToken);
    }

    /// <summary>See <see cref="FarmFixture.HandoverOfAsync"/>, for module "web".</summary>
    public static Task<(int Draining, int Incoming)> HandoverOfAsync(this FarmFixture farm, int index, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(farm);
        return farm.HandoverOfAsync(index, ModuleName, cancellationToken);
    }

    /// <summary>
    /// Opens one new connection (or UDP flow) from every client address on <paramref name="port"/> with source port
    /// <paramref name="sourcePort"/> and returns the sources whose answer did not come from the bucket's acceptor.
    /// </summary>
    public static async Task<IReadOnlyList<string>> MisroutedNewFlowsAsync(this FarmFixture farm, string[] acceptors, int port, int sourcePort)
    {
        ArgumentNullException.ThrowIfNull(farm);
        ArgumentNullException.ThrowIfNull(acceptors);
        var sources = farm.Sources(sourcePort);
        var names = port == UdpPort
            ? await FarmClients.AskUdpAsync(farm.Client.Namespace, sources, Vip, IPAddress.IPv6Loopback, port, TimeSpan.FromSeconds(4))
            : await FarmClients.AskTcpAsync(farm.Client.Namespace, sources, Vip, IPAddress.IPv6Loopback, port, TimeSpan.FromSeconds(4));
        var wrong = new List<string>();
        for (int i = 0; i < sources.Count; i++)
        {
            string expected = acceptors[farm.BucketOfPort(sources[i], port)];
            string? got = names[i]?.Trim();
            if (got != expected)
            {
                wrong.Add($"{sources[i]} -> {got ?? "no answer"} (expected {expected})");
            }
        }

        return wrong;
    }
}
