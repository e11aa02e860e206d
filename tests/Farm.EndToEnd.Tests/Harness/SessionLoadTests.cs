namespace Farm.EndToEnd.Tests.Harness;

/// <summary>
/// The session load generator against plain name servers (no farmd): each node's server answers on the node's own
/// address, and the sessions target node addresses instead of a VIP. Proves the generator sees healthy sessions as
/// healthy, and that its checks do fail on resets, stalls, loss and double answers.
/// </summary>
[TestClass]
public sealed class SessionLoadTests(TestContext testContext)
{
    private const int Port = 7000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private CancellationToken Ct => testContext.CancellationToken;

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task StartAsync_100TcpAnd100UdpSessions_AllAnsweredWithoutResetsAndNodeRecorded()
    {
        await using var lan = await TwoNodes.StartAsync(Ct);
        var sources = lan.Sources(ipv4: 40, ipv6: 10);
        var options = new SessionLoadOptions { SessionsPerSource = 2, AnswerTimeout = TimeSpan.FromSeconds(5), StallThreshold = TimeSpan.FromSeconds(5) };
        await using var tcp = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(0), Port, options, cancellationToken: Ct);
        await using var udp = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(1), Port, options with { Protocol = SessionProtocol.Udp }, cancellationToken: Ct);

        // 30 round trips at 50 ms: about 2 s of traffic.
        await tcp.WaitUntilAsync(s => s.MinRoundTrips >= 30, Wait, Ct);
        await udp.WaitUntilAsync(s => s.MinRoundTrips >= 30, Wait, Ct);
        var tcpReport = await tcp.StopAsync(Ct);
        var udpReport = await udp.StopAsync(Ct);

        foreach (var (report, node) in new[] { (tcpReport, "node0"), (udpReport, "node1") })
        {
            Assert.AreEqual(100, report.Total);
            Assert.AreEqual(100, report.Stopped, report.ToString());
            Assert.IsTrue(report.IsClean, report.ToString());
            Assert.AreEqual(0, report.Reset);
            Assert.AreEqual(0, report.AnsweredByTwo);
            Assert.AreEqual(0L, report.Lost);
            Assert.IsGreaterThanOrEqualTo(30L, report.MinRoundTrips);
            CollectionAssert.AreEquivalent(new[] { node }, report.Sessions.Select(s => s.Node).Distinct().ToArray());
            Assert.AreEqual(100, report.SessionsByNode[node]);
            Assert.IsTrue(report.Sessions.All(s => s.LocalEndPoint is { Port: > 0 }), "every session knows its local port");
            CollectionAssert.AreEqual(
                sources.SelectMany(s => new[] { s.Address, s.Address }).ToArray(),
                report.Sessions.Select(s => s.LocalEndPoint!.Address).ToArray());
        }

        Assert.AreEqual(tcpReport.RoundTrips, tcp.GetLatency().Count);
        Assert.AreEqual(udpReport.RoundTrips, udp.GetLatency().Count);
        Assert.AreEqual(100L, lan.Servers[0].Connections);
        Assert.IsGreaterThanOrEqualTo(udpReport.RoundTrips, lan.Servers[1].Datagrams);
        Assert.IsTrue(tcpReport.Sessions.All(s => s.ConnectTime is not null));
        Assert.IsTrue(tcp.GetNodes().All(n => n == "node0"));
        Assert.AreEqual("node1", udp.NodeOf(99));
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Snapshot_ServerDisposed_ItsTcpSessionsReportedResetOthersNot()
    {
        await using var lan = await TwoNodes.StartAsync(Ct);
        var sources = lan.Sources(ipv4: 20, ipv6: 0);
        await using var victim = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(0), Port, cancellationToken: Ct);
        await using var bystander = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(1), Port, cancellationToken: Ct);
        await victim.WaitUntilAsync(s => s.MinRoundTrips >= 3, Wait, Ct);
        await bystander.WaitUntilAsync(s => s.MinRoundTrips >= 3, Wait, Ct);

        await lan.Servers[0].DisposeAsync();
        var killed = await victim.WaitUntilAsync(s => s.Reset == 20, Wait, Ct);
        var spared = await bystander.WaitUntilAsync(s => s.MinRoundTrips >= 6, Wait, Ct);

        Assert.IsFalse(killed.IsClean);
        StringAssert.Contains(killed.Problems[0], "20 sessions reset");
        Assert.IsTrue(killed.Sessions.All(s => s.EndReason is not null && s.EndedAt is not null), killed.ToString());
        Assert.AreEqual(0, killed.SessionsByNode.Count, "no live session is left on the dead server");
        Assert.AreEqual(0, spared.Reset, spared.ToString());
        Assert.AreEqual(20, spared.Open);
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Snapshot_NodeDropsTheTraffic_TcpAndUdpStallsAndUdpLossReported()
    {
        await using var lan = await TwoNodes.StartAsync(Ct, needNft: true);
        var sources = lan.Sources(ipv4: 10, ipv6: 0);
        var options = new SessionLoadOptions { AnswerTimeout = TimeSpan.FromMilliseconds(200), StallThreshold = TimeSpan.FromMilliseconds(300) };
        await using var tcp = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(0), Port, options, cancellationToken: Ct);
        await using var udp = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(0), Port, options with { Protocol = SessionProtocol.Udp }, cancellationToken: Ct);
        await tcp.WaitUntilAsync(s => s.MinRoundTrips >= 3, Wait, Ct);
        await udp.WaitUntilAsync(s => s.MinRoundTrips >= 3, Wait, Ct);

        // The node silently drops both services' packets (inside its own namespace), as a node that lost its buckets would.
        var node = lan.Topology.Nodes[0].Namespace;
        await node.ApplyNftAsync(
            $$"""
            table inet sessiontest {
                chain input {
                    type filter hook input priority 0; policy accept;
                    meta l4proto { tcp, udp } th dport {{Port}} drop
                }
            }

            """,
            Ct);
        var stalledTcp = await tcp.WaitUntilAsync(s => s.StalledSessions == 10, Wait, Ct);
        var stalledUdp = await udp.WaitUntilAsync(s => s.StalledSessions == 10, Wait, Ct);
        var before = tcp.Snapshot().Sessions.Select(s => s.RoundTrips).ToArray();
        await node.NftAsync(["delete", "table", "inet", "sessiontest"], cancellationToken: Ct);

        // TCP recovers by retransmission, UDP with the next request: the requests dropped meanwhile are then lost.
        await tcp.WaitUntilAsync(s => s.Sessions.All(x => x.RoundTrips > before[x.Index]), Wait, Ct);
        await udp.WaitUntilAsync(s => s.Sessions.All(x => x.Lost > 0), Wait, Ct);
        var tcpReport = await tcp.StopAsync(Ct);
        var udpReport = await udp.StopAsync(Ct);

        Assert.IsFalse(stalledTcp.IsClean);
        Assert.IsFalse(stalledUdp.IsClean);
        Assert.AreEqual(0, tcpReport.Reset, "a silent drop stalls TCP, it does not reset it: " + tcpReport);
        Assert.AreEqual(10, tcpReport.StalledSessions, tcpReport.ToString());
        Assert.AreEqual(10, tcpReport.Sessions.Count(s => s.Timeouts > 0), tcpReport.ToString());
        Assert.IsGreaterThan(options.StallThreshold, tcpReport.MaxStall);
        Assert.AreEqual(10, udpReport.StalledSessions, udpReport.ToString());
        Assert.IsGreaterThanOrEqualTo(10L, udpReport.Lost);
        Assert.AreEqual(0, udpReport.AnsweredByTwo, udpReport.ToString());
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Snapshot_TwoServersAnswerOneAddress_UdpSessionsReportedAnsweredByTwo()
    {
        await using var lan = await TwoNodes.StartAsync(Ct);

        // Both nodes hold a shared address and run a name server on it; the client sends its frames to the broadcast
        // MAC, so both nodes take every request and both answer: a farm whose filters overlap.
        var shared = IPAddress.Parse("198.18.0.150");
        foreach (var host in lan.Topology.Nodes)
        {
            await host.Namespace.AddAddressAsync("lo", shared, 32, Ct);
        }

        await using var first = await NameServer.StartAsync(lan.Topology.Nodes[0].Namespace, "node0", [], [new IPEndPoint(shared, Port)]);
        await using var second = await NameServer.StartAsync(lan.Topology.Nodes[1].Namespace, "node1", [], [new IPEndPoint(shared, Port)]);
        await lan.Client.IpAsync(["neigh", "replace", shared.ToString(), "lladdr", "ff:ff:ff:ff:ff:ff", "dev", lan.Topology.Clients[0].InterfaceName, "nud", "permanent"], Ct);
        await using var udp = await SessionLoad.StartAsync(lan.Client, lan.Sources(ipv4: 10, ipv6: 0), [shared], Port, new SessionLoadOptions { Protocol = SessionProtocol.Udp }, cancellationToken: Ct);

        var seen = await udp.WaitUntilAsync(s => s.AnsweredByTwo == 10 && s.DuplicateAnswers >= 30, Wait, Ct);

        Assert.IsFalse(seen.IsClean);
        Assert.IsTrue(seen.Sessions.All(s => s.NodeChanged && s.Nodes.Order().SequenceEqual(["node0", "node1"])), seen.ToString());
        Assert.IsTrue(seen.Problems.Any(p => p.StartsWith("10 sessions answered by two", StringComparison.Ordinal)), seen.ToString());
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task CloseAsync_SomeSessions_ClosedCleanlyWithTimesWhileTheOthersRunOn()
    {
        await Requirements.ToolsAsync("ss");
        await using var lan = await TwoNodes.StartAsync(Ct);
        var sources = lan.Sources(ipv4: 20, ipv6: 0);
        await using var tcp = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(0), Port, cancellationToken: Ct);
        await using var udp = await SessionLoad.StartAsync(lan.Client, sources, lan.Node(1), Port, new SessionLoadOptions { Protocol = SessionProtocol.Udp }, cancellationToken: Ct);
        await tcp.WaitUntilAsync(s => s.MinRoundTrips >= 3, Wait, Ct);
        await udp.WaitUntilAsync(s => s.MinRoundTrips >= 3, Wait, Ct);

        // Each load measures from its own start: compare a close with the load it belongs to.
        var (askedTcp, askedUdp) = (tcp.Elapsed, udp.Elapsed);
        var firstFive = await tcp.CloseAsync(5, Ct);
        var odd = await tcp.CloseAsync(s => s.Index % 2 == 1, Ct);
        var udpClosed = await udp.CloseAsync(3, Ct);
        var running = await tcp.WaitUntilAsync(s => s.Sessions.Where(x => x.State == SessionState.Open).All(x => x.RoundTrips >= 6), Wait, Ct);
        int established = await EstablishedAsync(lan.Topology.Nodes[0].Namespace);
        var tcpReport = await tcp.StopAsync(Ct);
        var udpReport = await udp.StopAsync(Ct);

        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3, 4 }, firstFive.Select(c => c.Index).ToArray());
        CollectionAssert.AreEqual(new[] { 5, 7, 9, 11, 13, 15, 17, 19 }, odd.Select(c => c.Index).ToArray());
        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, udpClosed.Select(c => c.Index).ToArray());
        foreach (var (close, asked) in firstFive.Concat(odd).Select(c => (c, askedTcp)).Concat(udpClosed.Select(c => (c, askedUdp))))
        {
            Assert.IsTrue(close.Clean, close.ToString());
            Assert.IsNull(close.Problem);
            Assert.IsGreaterThanOrEqualTo(asked, close.RequestedAt);
            Assert.IsGreaterThanOrEqualTo(close.RequestedAt, close.ClosedAt);
        }

        Assert.IsTrue(firstFive.Concat(odd).All(c => c.Node == "node0"));
        Assert.AreEqual(13, running.Closed);
        Assert.AreEqual(7, running.Open);
        Assert.AreEqual(7, established, "the server side of every closed connection is gone too");
        Assert.AreEqual(13, tcpReport.Closed);
        Assert.AreEqual(7, tcpReport.Stopped);
        Assert.IsTrue(tcpReport.IsClean, tcpReport.ToString());
        Assert.AreEqual(3, udpReport.Closed);
        Assert.AreEqual(17, udpReport.Stopped);
        Assert.IsTrue(udpReport.IsClean, udpReport.ToString());
        Assert.AreEqual(7, tcpReport.SessionsByNode["node0"]);
    }

    [TestMethod]
    public async Task StartAsync_BadOptions_EveryProblemNamedBeforeAnySocket()
    {
        await Requirements.NamespacesAsync(needNft: false);
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: Ct);
        var options = new SessionLoadOptions { SessionsPerSource = 2, Interval = TimeSpan.Zero };

        var e = await Assert.ThrowsExactlyAsync<ArgumentException>(() => SessionLoad.StartAsync(
            ns, [new IPEndPoint(IPAddress.Parse("198.18.1.1"), 4000), new IPEndPoint(IPAddress.Parse("2001:db8::1:1"), 0)], [IPAddress.Parse("198.18.0.1")], 0, options, cancellationToken: Ct));

        StringAssert.Contains(e.Message, "port 0");
        StringAssert.Contains(e.Message, "no target of family InterNetworkV6");
        StringAssert.Contains(e.Message, "fixed port");
        StringAssert.Contains(e.Message, "Interval");
        await Assert.ThrowsExactlyAsync<ArgumentOutOfRangeException>(() => SessionLoad.StartAsync(
            ns, [new IPEndPoint(IPAddress.Parse("10.0.0.1"), 0)], [IPAddress.Parse("198.18.0.1")], Port, cancellationToken: Ct));
    }

    private async Task<int> EstablishedAsync(NetworkNamespace ns)
    {
        var result = await ns.ExecAsync(ToolLocator.Require("ss", "iproute2"), ["-Htn", "state", "established", $"( sport = :{Port} )"], cancellationToken: Ct);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>Two nodes and a client on one LAN; node i runs a name server "nodei" for TCP and for UDP on its own addresses.</summary>
    private sealed class TwoNodes : IAsyncDisposable
    {
        private TwoNodes(FarmTopology topology, NameServer[] servers)
        {
            Topology = topology;
            Servers = servers;
        }

        public FarmTopology Topology { get; }

        public NameServer[] Servers { get; }

        public NetworkNamespace Client => Topology.Clients[0].Namespace;

        /// <summary>Skips (see <see cref="Requirements.NamespacesAsync"/>) where namespaces, or nft when <paramref name="needNft"/>, are missing.</summary>
        public static async Task<TwoNodes> StartAsync(CancellationToken cancellationToken, bool needNft = false)
        {
            await Requirements.NamespacesAsync(needNft);
            var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 2, Clients = 1, AddressesPerClient = 40 }, cancellationToken: cancellationToken);
            var servers = new List<NameServer>();
            try
            {
                for (int i = 0; i < topology.Nodes.Count; i++)
                {
                    var udp = new[] { new IPEndPoint(FarmTopology.NodeAddress4(i), Port), new IPEndPoint(FarmTopology.NodeAddress6(i), Port) };
                    servers.Add(await NameServer.StartAsync(topology.Nodes[i].Namespace, $"node{i}", [Port], udp));
                }

                return new TwoNodes(topology, [.. servers]);
            }
            catch
            {
                foreach (var server in servers)
                {
                    await server.DisposeAsync();
                }

                await topology.DisposeAsync();
                throw;
            }
        }

        /// <summary>Node <paramref name="index"/>'s addresses, as session targets.</summary>
        public IPAddress[] Node(int index) => [FarmTopology.NodeAddress4(index), FarmTopology.NodeAddress6(index)];

        /// <summary>The client's first addresses of each family, with ephemeral ports.</summary>
        public IPEndPoint[] Sources(int ipv4, int ipv6) =>
            [.. Topology.Clients[0].Addresses4.Take(ipv4).Concat(Topology.Clients[0].Addresses6.Take(ipv6)).Select(a => new IPEndPoint(a, 0))];

        public async ValueTask DisposeAsync()
        {
            foreach (var server in Servers)
            {
                await server.DisposeAsync();
            }

            await Topology.DisposeAsync();
        }
    }
}
