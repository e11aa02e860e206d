using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.NetworkInformation;
using Farm.DataPlane.Addressing;

namespace Farm.EndToEnd.Tests.Farmd;

/// <summary>
/// Real farmd processes in network namespaces driving the real kernel data plane: every client is answered by exactly
/// the node the C# bucket math predicts from the live table, neighbor resolution goes through the responders only,
/// a killed daemon fails closed within its lease and the survivors take over, and a stopped daemon leaves nothing.
/// </summary>
[TestClass]
public sealed partial class FarmdFarmTests() : SharedFarmTests<FarmdFarmTests>(Shared)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(4);
    private static readonly ClassFarm<FarmFixture> Shared = new("farm", f => f.Outputs());

    private static FarmFixture Farm => Shared.Value;

    private static TopologyHost Client0 => Farm.Topology.Clients[0];

    private static TopologyHost Client1 => Farm.Topology.Clients[1];

    /// <summary>The owner of each of web's buckets as the test starts, all three daemons running and settled.</summary>
    private string[] Owners { get; set; } = [];

    [TestInitialize]
    public async Task InitializeAsync()
    {
        await Requirements.NamespacesAsync(needNft: true);
        await Requirements.ToolsAsync("tcpdump", "arping");
        await Shared.InitializeAsync(TestContext, FarmdScenario.StartAsync, "Topology and 3 farmd up and settled");

        // Every test starts from all three daemons running (a test that stops one leaves it to the next to restart).
        Owners = await Farm.EnsureAllRunningAsync(Ct);
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task ClientIp_300Ipv4And100Ipv6Clients_EachAnsweredByThePredictedNodeAlwaysTheSame()
    {
        var perClient = new[] { Client0, Client1 }
            .Select(c => (Client: c, Sources: c.Addresses4.Concat(c.Addresses6.Take(50)).Select(a => new IPEndPoint(a, 0)).ToArray()))
            .ToArray();
        int total = perClient.Sum(c => c.Sources.Length);
        long acceptedBefore = Farm.Servers.Sum(s => s!.Connections);

        var watch = Stopwatch.StartNew();
        var first = await AskAllAsync(perClient, FarmdScenario.ClientIpPort);
        TestContext.WriteLine($"{total} connections ({perClient.Sum(c => c.Client.Addresses4.Count)} IPv4 + 100 IPv6 sources) in {watch.ElapsedMilliseconds} ms; per node: {Distribution(first)}");
        var second = await AskAllAsync(perClient, FarmdScenario.ClientIpPort);

        var sources = perClient.SelectMany(c => c.Sources).ToArray();
        string[] expected = [.. sources.Select(s => Owners[Farm.BucketOf(s, Affinity.ClientIp)])];
        AssertAnswers(sources, expected, first);
        AssertAnswers(sources, expected, second);
        Assert.AreEqual(3, first.Distinct().Count(), "every node serves some clients");

        // Each connection was accepted by exactly one server: none answered twice.
        Assert.AreEqual(2L * total, Farm.Servers.Sum(s => s!.Connections) - acceptedBefore, "accepted connections over all nodes");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task FarmctlWhoOwns_200SampledClients_NamesTheNodeThatAnswers()
    {
        var sources = Client0.Addresses4.Take(100).Concat(Client1.Addresses6.Take(100)).Select(a => new IPEndPoint(a, 0)).ToArray();
        var answers = new List<string?>();
        foreach (var group in sources.GroupBy(s => s.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? Client0 : Client1))
        {
            answers.AddRange(await FarmClients.AskTcpAsync(group.Key.Namespace, [.. group], FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPort, AskTimeout));
        }

        int agree = 0;
        for (int i = 0; i < sources.Length; i++)
        {
            // The admin API of a node that does not own the client: who-owns reads the live table, not the kernel.
            using var output = new StringWriter();
            using var error = new StringWriter();
            int code = global::Farm.Cli.CliApp.Run(
                ["who-owns", sources[i].Address.ToString(), "--module", FarmdScenario.ModuleName, "--port", FarmdScenario.ClientIpPort.ToString(CultureInfo.InvariantCulture),
                 "--protocol", "tcp", "--socket", Farm.Daemon(i % FarmdScenario.NodeCount).AdminSocket, "--json"],
                output,
                error);
            Assert.AreEqual(0, code, error.ToString());
            using var json = System.Text.Json.JsonDocument.Parse(output.ToString());
            string? owner = json.RootElement.GetProperty("owners")[0].GetProperty("owner").GetString();
            Assert.IsNotNull(answers[i], $"{sources[i].Address} got no answer");
            Assert.AreEqual(answers[i], owner, $"farmctl who-owns {sources[i].Address} names {owner}, but {answers[i]} answered");
            agree++;
        }

        TestContext.WriteLine($"who-owns agreed with the answering node for {agree} of {sources.Length} clients (100 IPv4, 100 IPv6)");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task ClientIpPort_OneAddress300SourcePorts_SpreadOverAllNodesAsPredicted()
    {
        var sources = Enumerable.Range(0, 300).Select(i => new IPEndPoint(Client0.Addresses4[7], 41000 + i)).ToArray();

        var answers = await FarmClients.AskTcpAsync(Client0.Namespace, sources, FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPortPort, AskTimeout);

        AssertAnswers(sources, [.. sources.Select(s => Owners[Farm.BucketOf(s, Affinity.ClientIpPort)])], answers);
        TestContext.WriteLine($"300 connections from {Client0.Addresses4[7]}; per node: {Distribution(answers)}");
        Assert.AreEqual(3, answers.Distinct().Count(), "one client address is spread over all nodes");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task Udp_ClientIp_EachDatagramAnsweredByThePredictedNode()
    {
        var sources = Client0.Addresses4.Take(50).Concat(Client0.Addresses6.Take(50)).Select(a => new IPEndPoint(a, 0)).ToArray();

        var answers = await FarmClients.AskUdpAsync(Client0.Namespace, sources, FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.UdpPort, AskTimeout);

        AssertAnswers(sources, [.. sources.Select(s => Owners[Farm.BucketOf(s, Affinity.ClientIp)])], answers);
        TestContext.WriteLine($"{sources.Length} UDP exchanges; per node: {Distribution(answers)}");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task NeighborResolution_ArpingAndKernel_LearnTheVmacOnlyFromTheResponders()
    {
        var client = Client1;
        string vmac4 = VirtualMac.Format(VirtualMac.For(FarmdScenario.Vip4));
        string vmac6 = VirtualMac.Format(VirtualMac.For(FarmdScenario.Vip6));
        var nodeMacs = new List<string>();
        foreach (var node in Farm.Nodes)
        {
            nodeMacs.Add(await MacOfAsync(node, Ct));
        }

        await using var capture = await BridgeCapture.StartAsync(Farm.Topology, Ct);

        // IPv4 with the real arping (no neighbor entry yet: flushed), then the kernel's own resolution.
        await client.Namespace.IpAsync(["-4", "neigh", "flush", "dev", client.InterfaceName], Ct);
        var arping = await client.Namespace.ExecAsync(
            ToolLocator.Require("arping", "arping"), ["-c", "1", "-w", "3", "-i", client.InterfaceName, "-S", client.Addresses4[0].ToString(), FarmdScenario.Vip4.ToString()],
            cancellationToken: Ct);
        TestContext.WriteLine("arping: " + arping.StandardOutput.Trim());

        // arping prints each reply's Ethernet source: the answering node's real MAC (never the vMAC, which travels
        // only inside the ARP payload; the capture below checks that payload).
        string[] repliedFrom = [.. arping.StandardOutput.Split('\n').Where(l => l.Contains("bytes from", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3].ToLowerInvariant())];
        Assert.IsNotEmpty(repliedFrom, "arping got no reply");
        CollectionAssert.IsSubsetOf(repliedFrom, nodeMacs, "ARP replies come from the nodes' responders with their own MAC as Ethernet source");

        await client.Namespace.IpAsync(["-4", "neigh", "flush", "dev", client.InterfaceName], Ct);
        await client.Namespace.IpAsync(["-6", "neigh", "flush", "dev", client.InterfaceName], Ct);
        var answers = await FarmClients.AskTcpAsync(
            client.Namespace, [new IPEndPoint(client.Addresses4[1], 0), new IPEndPoint(client.Addresses6[1], 0)], FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPort, AskTimeout);
        Assert.IsTrue(answers.All(a => a is not null), "both connections were answered after kernel resolution");
        string neighbors = (await client.Namespace.IpAsync(["neigh", "show", "dev", client.InterfaceName], Ct)).StandardOutput;
        TestContext.WriteLine("Client neighbor table:\n" + neighbors);
        foreach (var (vip, vmac) in new[] { (FarmdScenario.Vip4, vmac4), (FarmdScenario.Vip6, vmac6) })
        {
            string line = neighbors.Split('\n').Single(l => l.StartsWith(vip + " ", StringComparison.Ordinal));
            StringAssert.Contains(line, "lladdr " + vmac);
            Assert.DoesNotContain("PERMANENT", line);
        }

        var frames = await capture.StopAsync(Ct);
        var vmacs = new[] { vmac4, vmac6 };
        var arpReplies = frames.Where(f => f.EtherType == 0x0806 && f.Payload.Length >= 28 && BinaryPrimitives.ReadUInt16BigEndian(f.Payload.AsSpan(6)) == 2
            && new IPAddress(f.Payload.AsSpan(14, 4)).Equals(FarmdScenario.Vip4)).ToList();
        var advertisements = frames.Where(f => IsNeighborAdvertisementFor(f, FarmdScenario.Vip6)).ToList();
        TestContext.WriteLine($"{frames.Count} frames captured; {arpReplies.Count} ARP replies and {advertisements.Count} neighbor advertisements for the VIPs");
        TestContext.WriteLine("ICMPv6 seen: " + string.Join(", ", frames.Where(f => f.EtherType == 0x86dd && f.Payload.Length > 40 && f.Payload[6] == 58)
            .GroupBy(f => f.Payload[40]).Select(g => $"type {g.Key} x{g.Count()}")) + "; ethertypes: " + string.Join(", ", frames.GroupBy(f => f.EtherType).Select(g => $"{g.Key:x4} x{g.Count()}")));

        Assert.IsEmpty(frames.Where(f => vmacs.Contains(VirtualMac.Format(f.Source))).ToList(), "a frame carried a vMAC as Ethernet source");
        Assert.IsNotEmpty(arpReplies, "the capture saw the ARP replies");
        Assert.IsTrue(arpReplies.All(f => Mac(f.Payload.AsSpan(8, 6)) == vmac4), "every ARP reply for the VIP carries the vMAC (no node's kernel answered)");
        Assert.IsTrue(arpReplies.All(f => nodeMacs.Contains(VirtualMac.Format(f.Source))), "ARP replies leave with a node's real MAC as Ethernet source");
        Assert.IsNotEmpty(advertisements, "the capture saw the neighbor advertisements");
        Assert.IsTrue(advertisements.All(f => TargetLinkLayer(f) == vmac6), "every NA for the VIP carries the vMAC as target link-layer address");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task Kill9_OneDaemon_FailsClosedWithinLeaseThenSurvivorsServeEveryClient()
    {
        const int victim = 1;
        var victimSource = new IPEndPoint(Client0.Addresses4.First(a => Owners[Farm.BucketOf(new IPEndPoint(a, 0), Affinity.ClientIp)] == "node1"), 0);
        var probes = new ConcurrentBag<(TimeSpan Started, string? Answer)>();
        using var probing = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watch = Stopwatch.StartNew();

        Farm.Daemon(victim).Kill();
        TimeSpan killed = watch.Elapsed;

        // Probe the victim's client every 50 ms with fresh connections (each answered or not within 400 ms).
        var prober = Task.Run(async () =>
        {
            var pending = new List<Task>();
            while (!probing.IsCancellationRequested)
            {
                TimeSpan started = watch.Elapsed;
                pending.Add(Task.Run(async () =>
                {
                    var answer = await FarmClients.AskTcpAsync(Client0.Namespace, [victimSource], FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPort, TimeSpan.FromMilliseconds(400));
                    probes.Add((started, answer[0]));
                }, CancellationToken.None));
                await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None);
            }

            await Task.WhenAll(pending);
        }, CancellationToken.None);

        // The kernel lease of the killed node: gone within the lease, because nobody refreshes it.
        TimeSpan? lapsed = null;
        while (watch.Elapsed < killed + TimeSpan.FromSeconds(5))
        {
            var state = await FilterTableState.ReadAsync(Farm.Nodes[victim].Namespace, FarmdScenario.ModuleName, Ct);
            if (state is { HasLease: false })
            {
                lapsed = watch.Elapsed;
                break;
            }
        }

        // Membership declares it down and the survivors take its buckets.
        var survivorsOwners = await Farm.WaitWebSettledAsync([0, 2], TimeSpan.FromSeconds(15), Ct);
        TimeSpan settled = watch.Elapsed;
        await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, Ct);
        await probing.CancelAsync();
        await prober;

        var ordered = probes.OrderBy(p => p.Started).ToList();
        var firstSurvivor = ordered.FirstOrDefault(p => p.Answer is "node0" or "node2");
        var lastVictim = ordered.LastOrDefault(p => p.Answer == "node1");
        TestContext.WriteLine(
            $"kill -9 node1: kernel lease gone after {Ms(lapsed - killed)}; last probe answered by node1 started at {Ms(lastVictim.Answer is null ? null : lastVictim.Started - killed)}; "
            + $"first probe answered by a survivor started at {Ms(firstSurvivor.Answer is null ? null : firstSurvivor.Started - killed)}; survivors settled (kernel tables) after {Ms(settled - killed)}; "
            + $"{ordered.Count} probes: {string.Join(" ", ordered.Select(p => $"{(p.Started - killed).TotalMilliseconds:0}:{p.Answer ?? "-"}"))}");

        Assert.IsNotNull(lapsed, "the killed node's kernel lease never lapsed");
        // The crash fast path: the host stays up, so the survivors' connections to node1 broke and its port refused the
        // probe that followed; they did not wait for the detection timeout (events 307 and 1007).
        Assert.IsTrue(new[] { 0, 2 }.Any(i => Farm.Daemon(i).Output.Contains("is gone: its port refuses connections", StringComparison.Ordinal)),
            "no survivor noticed that node1's farmd died");
        // The kernel drops the element at most `lease` after the last refresh, which preceded the kill; the margin is
        // how late our polling (nft in the namespace, ~20 ms per read, more on a busy machine) may notice it.
        Assert.IsLessThanOrEqualTo(Farm.Lease + TimeSpan.FromMilliseconds(250), lapsed.Value - killed, "fail-closed within the lease");
        Assert.IsTrue(ordered.Where(p => p.Started > lapsed.Value).All(p => p.Answer != "node1"), "node1 answered after its lease lapsed");
        Assert.IsNotNull(firstSurvivor.Answer, "no survivor took over the victim's client");
        Assert.IsTrue(ordered.Where(p => p.Started > firstSurvivor.Started + TimeSpan.FromMilliseconds(200)).All(p => p.Answer == survivorsOwners[Farm.BucketOf(victimSource, Affinity.ClientIp)]),
            "after the takeover the client stays with one survivor");

        // Every client is served again, by the survivors, as their live table predicts.
        var perClient = new[] { Client0, Client1 }.Select(c => (Client: c, Sources: c.Addresses4.Concat(c.Addresses6.Take(50)).Select(a => new IPEndPoint(a, 0)).ToArray())).ToArray();
        var answers = await AskAllAsync(perClient, FarmdScenario.ClientIpPort);
        var sources = perClient.SelectMany(c => c.Sources).ToArray();
        AssertAnswers(sources, [.. sources.Select(s => survivorsOwners[Farm.BucketOf(s, Affinity.ClientIp)])], answers);
        TestContext.WriteLine($"after the takeover, {sources.Length} clients served by: {Distribution(answers)}");

        // A restart cleans up the crashed run's leftovers (its table still drops everything) and rejoins.
        await Farm.ForgetAsync(victim);
        var restarted = Farm.StartDaemon(victim);
        await restarted.WaitForReadyAsync(TimeSpan.FromSeconds(30), Ct);
        var rejoin = Stopwatch.StartNew();
        await Farm.WaitWebSettledAsync([0, 1, 2], TimeSpan.FromSeconds(30), Ct);
        TestContext.WriteLine($"restarted node1 rejoined and the table settled {rejoin.ElapsedMilliseconds} ms after it was ready");
        StringAssert.Contains(restarted.Output, "Removed nft table inet farm_web left by an earlier run");
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task Sigterm_OneDaemon_LeavesGracefullyAndRestoresItsNamespaceExactly()
    {
        const int node = 2;
        var daemon = Farm.Daemon(node);
        var watch = Stopwatch.StartNew();

        await daemon.TerminateAsync(Ct);
        int exit = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(20), Ct);
        TestContext.WriteLine($"SIGTERM -> exit {exit} after {watch.ElapsedMilliseconds} ms");

        Assert.AreEqual(0, exit, daemon.Output);
        StringAssert.Contains(daemon.Output, "Left the farm");
        var after = await NamespaceSnapshot.TakeAsync(Farm.Nodes[node].Namespace, Farm.Nodes[node].InterfaceName, Ct);
        Assert.AreEqual(Farm.Baselines[node], after, "node2's namespace differs from before farmd ran");
        // Only the kept incarnation and the console's certificate stay (they must outlive the run).
        CollectionAssert.AreEquivalent(
            new[] { "incarnation-" + FarmFixture.NodeName(node), "console.pfx" }, Directory.GetFiles(Farm.StateDirectory(node)).Select(Path.GetFileName).ToArray(), "the VIP state file is gone");

        // The two others serve everyone meanwhile.
        var owners = await Farm.WaitWebSettledAsync([0, 1], TimeSpan.FromSeconds(10), Ct);
        await AssertTcpAnsweredByOwnersAsync(Client0, 60, owners);
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task Witness_Unreachable_EveryNodeFailsClosedAndServesAgainOnceItAnswers()
    {
        string witness = $"{FarmdScenario.Witness}/{FarmTopology.PrefixLength4}";
        var watch = Stopwatch.StartNew();

        await Client0.Namespace.IpAsync(["address", "del", witness, "dev", Client0.InterfaceName], Ct);
        try
        {
            var lost = await UntilAsync(async () => (await Farm.ReadTablesAsync(FarmdScenario.ModuleName, Ct)).All(t => t is { HasLease: false }), TimeSpan.FromSeconds(10));
            TestContext.WriteLine($"witness gone: every kernel lease lapsed after {lost.TotalMilliseconds:0} ms");
            var unanswered = await FarmClients.AskTcpAsync(Client1.Namespace, [new IPEndPoint(Client1.Addresses4[3], 0)], FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPort, TimeSpan.FromMilliseconds(800));
            Assert.IsNull(unanswered[0], "a node served without the witness");
        }
        finally
        {
            await Client0.Namespace.AddAddressAsync(Client0.InterfaceName, FarmdScenario.Witness, FarmTopology.PrefixLength4, Ct);
        }

        watch.Restart();
        var owners = await Farm.WaitWebSettledAsync([0, 1, 2], TimeSpan.FromSeconds(15), Ct);
        TestContext.WriteLine($"witness back: leases held again after {watch.ElapsedMilliseconds} ms");
        await AssertTcpAnsweredByOwnersAsync(Client1, 30, owners);
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ModuleWithMissingInterface_ReportedNotReadyAndLeavesNothingWhileTheOtherServes()
    {

        for (int i = 0; i < FarmdScenario.NodeCount; i++)
        {
            var daemon = Farm.Daemon(i);
            StringAssert.Contains(daemon.Output, $"Data plane of module {FarmdScenario.BrokenModuleName} could not start", $"{daemon} reports the failure");
            using var admin = daemon.CreateAdminClient();
            var status = await admin.GetStatusAsync(Ct);
            var self = status.Nodes.Single(n => n.IsSelf);
            Assert.AreEqual(0, self.Buckets.SingleOrDefault(b => b.Module == FarmdScenario.BrokenModuleName)?.Buckets ?? 0, $"{daemon} got buckets of a module it cannot serve");
            Assert.IsGreaterThan(0, self.Buckets.Single(b => b.Module == FarmdScenario.ModuleName).Buckets, $"{daemon} serves the other module");

            // The failed start was undone: no table, no VIP.
            string ruleset = (await Farm.Nodes[i].Namespace.NftAsync(["list", "tables"], cancellationToken: Ct)).StandardOutput;
            Assert.DoesNotContain("farm_" + FarmdScenario.BrokenModuleName, ruleset);
            string lo = (await Farm.Nodes[i].Namespace.IpAsync(["address", "show", "dev", "lo"], Ct)).StandardOutput;
            Assert.DoesNotContain("198.18.0.101", lo);
        }
    }

    private static async Task<string?[]> AskAllAsync((TopologyHost Client, IPEndPoint[] Sources)[] perClient, int port)
    {
        var asks = perClient.Select(c => FarmClients.AskTcpAsync(c.Client.Namespace, c.Sources, FarmdScenario.Vip4, FarmdScenario.Vip6, port, AskTimeout));
        return [.. (await Task.WhenAll(asks)).SelectMany(a => a)];
    }

    // The first addresses of the client ask the web module over TCP (client_ip): each answered by its bucket's owner.
    private static async Task AssertTcpAnsweredByOwnersAsync(TopologyHost client, int addresses, string[] owners)
    {
        var sources = client.Addresses4.Take(addresses).Select(a => new IPEndPoint(a, 0)).ToArray();
        var answers = await FarmClients.AskTcpAsync(client.Namespace, sources, FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPort, AskTimeout);
        AssertAnswers(sources, [.. sources.Select(s => owners[Farm.BucketOf(s, Affinity.ClientIp)])], answers);
    }

    private static void AssertAnswers(IPEndPoint[] sources, string[] expected, string?[] answers)
    {
        var wrong = sources.Select((s, i) => (Source: s, Expected: expected[i], Got: answers[i])).Where(x => x.Got != x.Expected).ToList();
        Assert.IsEmpty(
            wrong,
            $"{wrong.Count} of {sources.Length} clients not answered by the predicted node, e.g. "
            + string.Join("; ", wrong.Take(10).Select(w => $"{w.Source}: expected {w.Expected}, got {w.Got ?? "no answer"}")));
    }

    private static string Distribution(IEnumerable<string?> answers) =>
        string.Join(", ", answers.GroupBy(a => a ?? "none").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));

    private static string Ms(TimeSpan? value) => value is { } v ? $"{v.TotalMilliseconds:0} ms" : "never";

    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await condition())
            {
                return watch.Elapsed;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System);
        }

        throw new AssertFailedException($"Condition not reached within {timeout.TotalSeconds} s.");
    }

    private static async Task<string> MacOfAsync(TopologyHost host, CancellationToken ct)
    {
        string output = (await host.Namespace.IpAsync(["-o", "link", "show", "dev", host.InterfaceName], ct)).StandardOutput;
        string[] words = output.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words[Array.IndexOf(words, "link/ether") + 1].ToLowerInvariant();
    }

    private static string Mac(ReadOnlySpan<byte> bytes) => VirtualMac.Format(new PhysicalAddress(bytes.ToArray()));

    private static bool IsNeighborAdvertisementFor(CapturedFrame frame, IPAddress target)
    {
        // IPv6 header (40 bytes, next header 58 = ICMPv6), ICMPv6 type 136, target at 8..24 of the message.
        var p = frame.Payload;
        return frame.EtherType == 0x86dd && p.Length >= 40 + 24 && p[6] == 58 && p[40] == 136 && new IPAddress(p.AsSpan(48, 16)).Equals(target);
    }

    private static string? TargetLinkLayer(CapturedFrame frame)
    {
        // Options follow the 24-byte NA: type 2 (target link-layer address), length in units of 8 bytes.
        var p = frame.Payload;
        for (int offset = 64; offset + 8 <= p.Length && p[offset + 1] > 0; offset += p[offset + 1] * 8)
        {
            if (p[offset] == 2)
            {
                return Mac(p.AsSpan(offset + 2, 6));
            }
        }

        return null;
    }
}
