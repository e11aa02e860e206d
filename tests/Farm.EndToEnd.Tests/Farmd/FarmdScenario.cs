namespace Farm.EndToEnd.Tests.Farmd;

/// <summary>
/// The scenario of <see cref="FarmdFarmTests"/> on <see cref="FarmFixture"/>: three farmd (witness policy; the witness
/// is an extra address of client0), two client namespaces with 150 IPv4 and 150 IPv6 source addresses each, module
/// "web" on both VIPs with an app in every node namespace that answers with the node's name, and a second module whose
/// interface exists on no node. Built once per test class; tests that stop a daemon leave it to
/// <see cref="EnsureAllRunningAsync"/> to restart it.
/// </summary>
internal static class FarmdScenario
{
    public const string ModuleName = "web";

    /// <summary>A second module whose interface exists on no node: its data plane fails to start everywhere.</summary>
    public const string BrokenModuleName = "broken";
    public const int ClientIpPort = FarmModules.TcpPort;
    public const int ClientIpPortPort = FarmModules.TcpPortPort;
    public const int UdpPort = FarmModules.UdpPort;
    public const int NodeCount = 3;
    public const int AddressesPerClient = 150;

    public static readonly IPAddress Vip4 = FarmModules.Vip4;
    public static readonly IPAddress Vip6 = FarmModules.Vip6;

    /// <summary>The split-brain witness: an extra address of client0 (tests remove it to lose the witness).</summary>
    public static readonly IPAddress Witness = IPAddress.Parse("198.18.1.250");

    /// <summary>All three farmd at once, as after a power cut: they must form one view together.</summary>
    public static Task<FarmFixture> StartAsync(CancellationToken cancellationToken) =>
        FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = "farm-e2e",
                Topology = new TopologyOptions { Nodes = NodeCount, Clients = 2, AddressesPerClient = AddressesPerClient },
                SplitBrain = new SplitBrainOptions { Policy = SplitBrainPolicy.Witness, Witness = Witness },
                Witness = Witness,
                TakeBaselines = true,
                Modules =
                [
                    FarmModules.OnTopology(ModuleName, [Vip4, Vip6], FarmModules.WebRules, TimeSpan.FromSeconds(1)),
                    // farmd uses the longest drain of all modules: the broken one's is as short.
                    FarmModules.OnTopology(BrokenModuleName, [IPAddress.Parse("198.18.0.101")], [FarmModules.Port(TransportProtocol.Tcp, 9090)], TimeSpan.FromSeconds(1))
                        with { Interface = "eth9" },
                ],
                AppTcpPorts = [ClientIpPort, ClientIpPortPort],
                AppUdpEndpoints = [new IPEndPoint(Vip4, UdpPort), new IPEndPoint(Vip6, UdpPort)],
                Settle = (farm, ct) => farm.WaitWebSettledAsync([0, 1, 2], TimeSpan.FromSeconds(30), ct),
            },
            cancellationToken);

    /// <summary>Restarts every daemon that is not running and waits until all three serve one settled table.</summary>
    public static async Task<string[]> EnsureAllRunningAsync(this FarmFixture farm, CancellationToken cancellationToken)
    {
        await farm.RestartStoppedAsync(cancellationToken);
        return await farm.WaitWebSettledAsync([0, 1, 2], TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>
    /// Waits until exactly <paramref name="members"/> form the installed view, each owns some of web's buckets, and their
    /// kernels split them in the counts their status reports (see <see cref="FarmFixture.WaitSettledAsync"/>). Returns the
    /// owner's name per bucket.
    /// </summary>
    public static async Task<string[]> WaitWebSettledAsync(this FarmFixture farm, int[] members, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Settled, and with a share on every member: a node that joins or comes back first enters a view that gives it
        // nothing (it announces its modules only once it holds a lease), and that view settles too.
        var owners = await Poll.UntilAsync(
            () => farm.WaitSettledAsync(members, ModuleName, timeout, TimeSpan.FromMilliseconds(100), cancellationToken, matchStatus: true),
            settled => members.All(m => settled.Contains(m)),
            $"web settled with a share on each of nodes {string.Join(", ", members)}",
            timeout,
            cancellationToken);
        return [.. owners.Select(FarmFixture.NodeName)];
    }
}
