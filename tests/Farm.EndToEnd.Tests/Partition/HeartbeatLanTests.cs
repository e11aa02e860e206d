using Farm.Testing.Nftables;

namespace Farm.EndToEnd.Tests.Partition;

/// <summary>
/// Two heartbeat LANs with real farmd (issue 18, item 3): three nodes at the shipped default timings, LANs "primary"
/// (198.18.0.0/16) and "secondary" (198.19.0.0/16) on one link, faults by nft rules on one LAN's addresses inside the node
/// namespaces. A peer is lost only when no exchange succeeded on <em>any</em> LAN for D, so one LAN cut or lossy must
/// change nothing: same installed epoch on every node, and every 10 ms read of the kernels shows the bucket sets of the
/// start. Lease lapses of a healthy node are a different defect (issue 18, item 1) and are reported, not asserted here.
/// </summary>
[TestClass]
public sealed class HeartbeatLanTests() : SharedFarmTests<HeartbeatLanTests>(Shared)
{
    /// <summary>How long one LAN stays cut: many detection timeouts, so a peer would long be lost if that LAN counted alone.</summary>
    private static readonly TimeSpan CutHold = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long one LAN loses 20%: 10 s. Heartbeats there ride one TCP connection per peer; a lost segment stalls it for a
    /// retransmission timeout (200 ms at least) and two in a row (4% of losses) for 600 ms, longer than D (300 ms). At 20
    /// heartbeats a second each way per peer pair, 10 s hold a few hundred losses and several stalls longer than D on the
    /// lossy LAN: each one a view change if that LAN's stall could evict a peer while the other LAN is fine.
    /// </summary>
    private static readonly TimeSpan LossHold = TimeSpan.FromSeconds(10);

    private static readonly ClassFarm<PartitionScenario> Shared = new("two-LAN farm", s => s.Farm.Outputs());

    private static PartitionScenario Scenario => Shared.Value;

    [TestInitialize]
    public async Task InitializeAsync()
    {
        await Requirements.NamespacesAsync(needNft: true);
        await Shared.InitializeAsync(
            TestContext, ct => PartitionScenario.StartAsync("farm-lans", 3, SplitBrainPolicy.Majority, secondLan: true, ct), "Two-LAN farm of 3 farmd up and settled");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task OneLanCut_EachLanInTurn_NoViewChangeAndPeersLostOnThatLanOnly()
    {
        var (epochs, acceptors, since) = await BaselineAsync();
        foreach (int lan in (int[])[0, 1])
        {
            var rules = Enumerable.Range(0, 3).ToDictionary(
                n => n, n => new FaultRules { Blocked = Enumerable.Range(0, 3).Where(o => o != n).Select(o => Scenario.LanAddresses(o).ElementAt(lan)).ToHashSet() });
            TimeSpan cutAt = Scenario.Apply(rules);
            await Scenario.WaitUntilAsync(cutAt + CutHold, Ct);

            // The cut took: node0 sees both peers unreachable on that LAN and reachable on the other.
            var self = await StatusAsync(0);
            string lanName = Scenario.Farm.Cluster.Lans[lan];
            foreach (var peer in self.Nodes.Where(p => !p.IsSelf))
            {
                var lans = peer.Lans.ToDictionary(l => l.Lan);
                Assert.IsFalse(lans[lanName].Reachable, $"{peer.Name} is unreachable on the cut LAN {lanName}: {lans[lanName]}");
                Assert.IsTrue(lans.Values.Single(l => l.Lan != lanName).Reachable, $"{peer.Name} is reachable on the other LAN");
            }

            Scenario.Apply(Enumerable.Range(0, 3).ToDictionary(n => n, _ => new FaultRules()));
            TestContext.WriteLine(Inv($"LAN {lanName} cut for {CutHold.TotalSeconds:F0} s"));
        }

        await AssertUnchangedAsync(epochs, acceptors, since);
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task OneLanLoses20Percent_TenSeconds_NoViewChange()
    {
        var (epochs, acceptors, since) = await BaselineAsync();
        var lossy = new IPNetwork(IPAddress.Parse("198.18.0.0"), FarmTopology.PrefixLength4); // the primary LAN (clients share it, and lose nothing: no client sends)
        TimeSpan lossAt = Scenario.Apply(Enumerable.Range(0, 3).ToDictionary(n => n, _ => new FaultRules { LossySources = [lossy], LossPercent = 20 }));
        await Scenario.WaitUntilAsync(lossAt + LossHold, Ct);
        long dropped = Enumerable.Range(0, 3).Sum(n => FaultRules.DroppedPackets(Scenario.Sampler.Run(n, $"list table inet {FaultRules.Table}")));
        Scenario.Apply(Enumerable.Range(0, 3).ToDictionary(n => n, _ => new FaultRules()));

        TestContext.WriteLine(Inv($"20% loss on the primary LAN for {LossHold.TotalSeconds:F0} s: {dropped} packets dropped"));
        Assert.IsGreaterThan(100L, dropped, "the loss rule dropped heartbeat traffic");
        await AssertUnchangedAsync(epochs, acceptors, since);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private async Task<NodeStatusReport> StatusAsync(int node)
    {
        using var admin = Scenario.Farm.Daemon(node).CreateAdminClient();
        return await admin.GetStatusAsync(Ct);
    }

    /// <summary>The settled farm's installed epochs, the acceptor of each bucket, and the sampler time from which rounds count.</summary>
    private async Task<(long[] Epochs, int[] Acceptors, TimeSpan Since)> BaselineAsync()
    {
        await Scenario.Farm.WaitSettledAsync([0, 1, 2], PartitionScenario.ModuleName, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50), Ct);
        TimeSpan since = Scenario.Sampler.Now;
        await Scenario.WaitUntilAsync(since + TimeSpan.FromMilliseconds(100), Ct);
        // The sampler reads every 10 ms, but on a loaded machine its first round after `since` may come later than that.
        var first = await Poll.UntilAsync(
            () => Task.FromResult(Scenario.Rounds().FirstOrDefault(r => r.Reads[0].At >= since)),
            r => r is not null,
            "a kernel round after the farm settled",
            TimeSpan.FromSeconds(10),
            Ct);
        int[] acceptors = first!.Acceptors(PartitionScenario.Buckets);
        Assert.IsTrue(acceptors.All(a => a >= 0), "the settled farm's kernels accept every bucket exactly once");
        long[] epochs = [.. await Task.WhenAll(Enumerable.Range(0, 3).Select(async n => (long)(await StatusAsync(n)).InstalledEpoch))];
        return (epochs, acceptors, since);
    }

    /// <summary>Same epochs now, and no round since <paramref name="since"/> whose sets give a bucket to another node.</summary>
    private async Task AssertUnchangedAsync(long[] epochs, int[] acceptors, TimeSpan since)
    {
        await Scenario.WaitUntilAsync(Scenario.Sampler.Now + TimeSpan.FromMilliseconds(300), Ct);
        var rounds = Scenario.Rounds().Where(r => r.Reads[0].At >= since).ToList();
        var moved = rounds.Where(r => Enumerable.Range(0, PartitionScenario.Buckets).Any(b => !r.Reads[acceptors[b]].Accepting.Contains(b) || r.Reads.Any(x => x.Node != acceptors[b] && x.Accepting.Contains(b)))).ToList();
        var lapses = rounds.Where(r => r.Reads.Any(x => !x.Leased)).ToList();
        TestContext.WriteLine(Inv($"{rounds.Count} rounds (longest gap {Scenario.Sampler.LongestGap.TotalMilliseconds:F0} ms): {moved.Count} with a bucket moved, {lapses.Count} with a node's lease lapsed{(lapses.Count > 0 ? Inv($" (first {lapses[0].At - since:g} in: node{lapses[0].Reads.First(x => !x.Leased).Node})") : string.Empty)}"));
        long[] now = [.. await Task.WhenAll(Enumerable.Range(0, 3).Select(async n => (long)(await StatusAsync(n)).InstalledEpoch))];
        CollectionAssert.AreEqual(epochs, now, $"installed epochs before [{string.Join(", ", epochs)}], after [{string.Join(", ", now)}]");
        Assert.IsEmpty(moved, moved.Count == 0 ? string.Empty : Inv($"buckets moved, first at round {moved[0].Number}"));
    }
}
