using Farm.Testing.Nftables;

namespace Farm.EndToEnd.Tests.Partition;

/// <summary>
/// The farm of <see cref="PartitionTests"/> and <see cref="HeartbeatLanTests"/>: N farmd at the shipped default timings
/// (50 ms / 300 ms / 150 ms) with one module of 256 buckets on an IPv4 VIP and no app (these tests read the kernels,
/// not answers), a client namespace that holds the witness address, and a <see cref="KernelBucketSampler"/> reading every
/// node's bucket sets every 10 ms into <see cref="Rounds"/> and an <see cref="AcceptorOverlapChecker"/>.
/// </summary>
internal sealed class PartitionScenario : IAsyncDisposable
{
    public const string ModuleName = "web";
    public const int Buckets = 256;

    /// <summary>How often the sampler reads every kernel.</summary>
    public static readonly TimeSpan SamplePeriod = TimeSpan.FromMilliseconds(10);

    public static readonly IPAddress Vip4 = FarmModules.Vip4;

    /// <summary>The split-brain witness: an extra address of client0.</summary>
    public static readonly IPAddress Witness = IPAddress.Parse("198.18.1.250");

    private readonly List<KernelRound> rounds = [];
    private readonly AcceptorOverlapChecker overlaps = new(Buckets);
    private KernelBucketSampler? sampler;

    private PartitionScenario(FarmFixture farm) => Farm = farm;

    public FarmFixture Farm { get; }

    public KernelBucketSampler Sampler => sampler!;

    /// <summary>The shipped defaults: what every farm runs unless its file says otherwise.</summary>
    public static HeartbeatOptions Timings => new();

    public TimeSpan Detection => Farm.Cluster.Heartbeat.DetectionTimeout;

    public TimeSpan Interval => Farm.Cluster.Heartbeat.Interval;

    /// <summary>Builds the farm, waits until it is settled on all nodes and starts sampling.</summary>
    public static async Task<PartitionScenario> StartAsync(string name, int nodes, SplitBrainPolicy policy, bool secondLan, CancellationToken cancellationToken)
    {
        var farm = await FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = name,
                Key = name + "-cluster-key-0123456789abcdef",
                Topology = new TopologyOptions { Nodes = nodes, Clients = 1, IPv6 = false },
                Heartbeat = Timings,
                SplitBrain = FarmFixtureOptions.SplitBrainOf(policy, Witness),
                Witness = policy == SplitBrainPolicy.Witness ? Witness : null,
                SecondLan = secondLan,
                Modules = [FarmModules.OnTopology(ModuleName, [Vip4], [FarmModules.Port(TransportProtocol.Tcp, 8080)], TimeSpan.FromSeconds(1), Buckets)],
                Settle = (f, ct) => f.WaitSettledAsync([.. Enumerable.Range(0, nodes)], ModuleName, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50), ct),
            },
            cancellationToken);
        var scenario = new PartitionScenario(farm);
        try
        {
            scenario.sampler = await KernelBucketSampler.StartAsync([.. farm.Nodes.Select(n => n.Namespace)], ModuleName, SamplePeriod, scenario.OnRound);
            return scenario;
        }
        catch
        {
            await scenario.DisposeAsync();
            throw;
        }
    }

    /// <summary>A copy of the rounds taken so far.</summary>
    public IReadOnlyList<KernelRound> Rounds()
    {
        lock (rounds)
        {
            return [.. rounds];
        }
    }

    /// <summary>A copy of the overlaps found so far.</summary>
    public IReadOnlyList<AcceptorOverlap> Overlaps()
    {
        lock (rounds)
        {
            return [.. overlaps.Overlaps];
        }
    }

    /// <summary>Gives every node of <paramref name="rules"/> its fault rules (an empty set removes them); returns when all kernels hold them.</summary>
    public TimeSpan Apply(IReadOnlyDictionary<int, FaultRules> rules) => Apply(rules.Keys.Order(), rules);

    /// <summary>
    /// Gives the nodes of <paramref name="order"/>, one after the other, their rules from <paramref name="rules"/>; returns
    /// when their kernels hold them. One nft batch per node: what one node's rules cut (its peers, the witness) is cut
    /// at one instant, but the nodes' batches follow each other (tens of milliseconds apart when the sampler is busy).
    /// </summary>
    public TimeSpan Apply(IEnumerable<int> order, IReadOnlyDictionary<int, FaultRules> rules)
    {
        foreach (int node in order)
        {
            Sampler.Run(node, rules[node].Script());
        }

        return Sampler.Now;
    }

    /// <summary>Waits (sampling all along) until the sampler's clock reads <paramref name="at"/>.</summary>
    public async Task WaitUntilAsync(TimeSpan at, CancellationToken cancellationToken)
    {
        var left = at - Sampler.Now;
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, TimeProvider.System, cancellationToken);
        }

        Sampler.ThrowIfFailed();
    }

    /// <summary>The node's addresses on every heartbeat LAN.</summary>
    public IEnumerable<IPAddress> LanAddresses(int node) =>
        Farm.Cluster.Nodes[node].Addresses;

    public async ValueTask DisposeAsync()
    {
        if (sampler is not null)
        {
            await sampler.DisposeAsync();
        }

        await Farm.DisposeAsync();
    }

    private void OnRound(KernelRound round)
    {
        lock (rounds)
        {
            rounds.Add(round);
            overlaps.Add(round);
        }
    }
}
