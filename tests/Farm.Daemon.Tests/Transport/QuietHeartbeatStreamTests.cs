namespace Farm.Daemon.Tests.Transport;

/// <summary>
/// Quiet heartbeats over the real heartbeat stream (two in-process nodes, Kestrel on loopback, split-brain policy none):
/// counted by the round trips n1 records towards n2, which only answered heartbeats produce.
/// </summary>
[TestClass]
public sealed class QuietHeartbeatStreamTests() : LoggedTempDirectoryTest("farmd-quiet-")
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    [TestMethod]
    public async Task HeartbeatStream_SteadyFarmPolicyNone_OneHeartbeatPerQuietSpanIsAnswered()
    {
        await using var nodes = await StartAsync(n2AnswersEverything: false);

        var (answered, heartbeats, quietSpan) = await CountAnswersAsync(nodes);

        // One answer per quiet span (plus the interval it takes to notice), instead of one per heartbeat.
        int most = (int)Math.Ceiling(Window / quietSpan) + 1;
        Assert.IsTrue(answered >= 1 && answered <= most, $"{answered} of {heartbeats} heartbeats answered in {Window.TotalSeconds} s (at most {most} expected)");
        await AssertOneSteadyFarmAsync(nodes);
    }

    [TestMethod]
    public async Task HeartbeatStream_PeerOfAnOlderReleaseAnswersEverything_AnswersAreReadAndTheFarmStaysOne()
    {
        await using var nodes = await StartAsync(n2AnswersEverything: true);

        var (answered, heartbeats, _) = await CountAnswersAsync(nodes);

        // The older peer answers quiet heartbeats too: n1 matches each answer to its heartbeat by reply_to.
        Assert.IsTrue(answered >= heartbeats * 3 / 4, $"{answered} of {heartbeats} heartbeats answered by a peer that answers all");
        await AssertOneSteadyFarmAsync(nodes);
    }

    private async Task<InProcessNodes> StartAsync(bool n2AnswersEverything)
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        return await InProcessNodes.StartAsync(["n1", "n2"], name => InProcessNode.StartAsync(
            clusterFile, name, Dir, Logs, adjust: s => n2AnswersEverything && name == "n2"
                ? s with { AnswersEveryHeartbeat = true, HeartbeatDatagrams = false } // a release from before quiet heartbeats had no datagrams either
                : s));
    }

    /// <summary>Once both nodes hold one view and a steady lease: n1's answered heartbeats towards n2 over <see cref="Window"/>.</summary>
    private static async Task<(int Answered, int Heartbeats, TimeSpan QuietSpan)> CountAnswersAsync(InProcessNodes nodes)
    {
        var n1 = nodes[0].Node;
        var options = n1.Host.Options;
        await Poll.UntilAsync(() => Task.FromResult(nodes.All(n => n.Node.Host.Read((m, _) => m.Installed?.Members.Length) == 2)), all => all,
            "both nodes install a view of n1 and n2", TimeSpan.FromSeconds(10), CancellationToken.None);
        await Task.Delay(options.DetectionTimeout * 2); // leases steady, quiet spans begun

        int before = n1.Transport.RoundTrips.Of("n2", 0).Count;
        await Task.Delay(Window);
        int after = n1.Transport.RoundTrips.Of("n2", 0).Count;
        Assert.IsTrue(after < Farm.Daemon.Transport.RoundTrips.Capacity, "the round-trip ring must not have wrapped");
        return (after - before, (int)(Window / options.HeartbeatInterval), options.QuietSpan);
    }

    private async Task AssertOneSteadyFarmAsync(InProcessNodes nodes)
    {
        var epochs = nodes.Select(n => n.Node.Host.Read((m, _) => m.Installed?.Id.Epoch)).ToList();
        await Task.Delay(nodes[0].Node.Host.Options.DetectionTimeout);
        CollectionAssert.AreEqual(epochs, nodes.Select(n => n.Node.Host.Read((m, _) => m.Installed?.Id.Epoch)).ToList(), "no view change: each side still hears the other");
        Assert.IsTrue(nodes.All(n => n.Node.Host.Read((m, now) => m.LeaseExpiry > now)), "both leases are held");
        Logs.AssertNoErrors();
    }
}
