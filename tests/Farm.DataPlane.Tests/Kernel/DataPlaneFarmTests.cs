using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Farm.DataPlane.Tests.Kernel;

/// <summary>
/// Three nodes and one client with many source addresses on one switched LAN (network namespaces). Each node runs the
/// real data plane with a hand-made bucket split (bucket b belongs to node b mod 3); the client must always be answered
/// by exactly the node that <see cref="BucketHasher"/> predicts, after resolving the VIP through the responders.
/// </summary>
[TestClass]
public sealed class DataPlaneFarmTests : KernelTestClass
{
    private const int NodeCount = 3;
    private const int AddressesPerClient = 40;
    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(4);
    private static readonly SemaphoreSlim Gate = new(1, 1);

    private static FarmTopology? topology;
    private static List<FarmNode> nodes = [];
    private static ModuleConfig module = null!;
    private static BucketHasher hasher = null!;
    private static string stateRoot = null!;
    private static TestLogSink logs = new();

    private static TopologyHost Client => topology!.Clients[0];

    [TestInitialize]
    public async Task InitializeAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (topology is null)
            {
                await BuildFarmAsync();
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    [TestCleanup]
    public void AssertNoWarnings()
    {
        try
        {
            logs.AssertNoWarnings();
        }
        finally
        {
            logs.Clear();
        }
    }

    [ClassCleanup]
    public static async Task TearDownAsync()
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }

        nodes = [];
        if (topology is not null)
        {
            await topology.DisposeAsync();
            topology = null;
        }

        if (stateRoot is not null && Directory.Exists(stateRoot))
        {
            Directory.Delete(stateRoot, recursive: true);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ClientIp_ManyIpv4AndIpv6Sources_EachAnsweredByThePredictedNodeAfterResolvingTheVmac()
    {
        // No neighbor entry for the VIPs: the client must resolve them through the responders.
        await Client.Namespace.IpAsync(["neigh", "flush", "dev", Client.InterfaceName], Ct);
        var sources = Client.Addresses4.Concat(Client.Addresses6).Select(a => new IPEndPoint(a, 0)).ToList();
        var before = await Task.WhenAll(nodes.Select(n => n.ReadCountersAsync()));

        var watch = Stopwatch.StartNew();
        var answers = await FarmClients.AskTcpAsync(Client.Namespace, sources, Modules.Vip4, Modules.Vip6, Modules.TcpPort, AskTimeout);
        watch.Stop();

        var expected = sources.Select(s => OwnerName(hasher.BucketOf(new ClientKey(s.Address), Affinity.ClientIp))).ToArray();
        AssertAnswers(sources.Select(s => s.ToString()).ToArray(), expected, answers);
        TestContext.WriteLine($"{sources.Count} connections ({Client.Addresses4.Count} IPv4 + {Client.Addresses6.Count} IPv6 sources) answered in {watch.ElapsedMilliseconds} ms; per node: {Distribution(answers)}");

        // The client learned the vMACs from the responders, dynamically.
        string neighbors = (await Client.Namespace.IpAsync(["neigh", "show", "dev", Client.InterfaceName], Ct)).StandardOutput;
        TestContext.WriteLine("Client neighbor table:\n" + neighbors);
        foreach (var vip in module.Vips)
        {
            string line = neighbors.Split('\n').Single(l => l.StartsWith(vip + " ", StringComparison.Ordinal));
            StringAssert.Contains(line, "lladdr " + VirtualMac.Format(VirtualMac.For(vip)));
            Assert.DoesNotContain("PERMANENT", line);
        }

        Assert.IsTrue(nodes.All(n => n.Responder.Replies > 0), "every node's responder answered");

        // Every node hashed packets with rule 0 and dropped the ones of buckets it does not own.
        var after = await Task.WhenAll(nodes.Select(n => n.ReadCountersAsync()));
        for (int i = 0; i < NodeCount; i++)
        {
            ulong hashed = after[i][FilterCounters.Rule(0)].Packets - before[i][FilterCounters.Rule(0)].Packets;
            ulong foreign = after[i][FilterCounters.Foreign].Packets - before[i][FilterCounters.Foreign].Packets;
            ulong owned = after[i][FilterCounters.Owned].Packets - before[i][FilterCounters.Owned].Packets;
            TestContext.WriteLine($"node{i}: rule_0 {hashed} packets, owned {owned}, foreign (dropped) {foreign}");
            Assert.IsGreaterThan(0UL, owned);
            Assert.IsGreaterThan(0UL, foreign);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ClientIpPort_ManySourcePorts_EachConnectionAnsweredByThePredictedNode()
    {
        var sources = Enumerable.Range(0, 60).Select(i => new IPEndPoint(Client.Addresses4[0], 30000 + i))
            .Concat(Enumerable.Range(0, 60).Select(i => new IPEndPoint(Client.Addresses6[0], 31000 + i)))
            .ToList();

        var answers = await FarmClients.AskTcpAsync(Client.Namespace, sources, Modules.Vip4, Modules.Vip6, Modules.TcpPortPort, AskTimeout);

        var expected = sources.Select(s => OwnerName(hasher.BucketOf(new ClientKey(s.Address, (ushort)s.Port), Affinity.ClientIpPort))).ToArray();
        AssertAnswers(sources.Select(s => s.ToString()).ToArray(), expected, answers);
        TestContext.WriteLine($"{sources.Count} connections from 2 addresses; per node: {Distribution(answers)}");
        Assert.AreEqual(NodeCount, answers.Distinct().Count(), "one client address is spread over all nodes");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Udp_ClientIp_EachDatagramAnsweredByThePredictedNode()
    {
        var sources = Client.Addresses4.Take(20).Concat(Client.Addresses6.Take(20)).Select(a => new IPEndPoint(a, 0)).ToList();

        var answers = await FarmClients.AskUdpAsync(Client.Namespace, sources, Modules.Vip4, Modules.Vip6, Modules.UdpPort, AskTimeout);

        var expected = sources.Select(s => OwnerName(hasher.BucketOf(new ClientKey(s.Address), Affinity.ClientIp))).ToArray();
        AssertAnswers(sources.Select(s => s.ToString()).ToArray(), expected, answers);
        TestContext.WriteLine($"{sources.Count} UDP exchanges; per node: {Distribution(answers)}");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Lease_LapsedOnOneNode_ItsClientsGoUnansweredOthersNotUntilRefreshed()
    {
        var mine = Client.Addresses4.First(a => Owner(a) == 0);
        var other = Client.Addresses4.First(a => Owner(a) == 1);
        var before = await nodes[0].ReadCountersAsync();

        // A short lease that is not refreshed: the kernel drops node0's VIP traffic once it expires.
        var lease = TimeSpan.FromMilliseconds(300);
        await nodes[0].RefreshLeaseAsync(lease);
        var watch = Stopwatch.StartNew();
        string? answer = "node0";
        while (answer is not null && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            answer = (await AskOneAsync(mine, TimeSpan.FromMilliseconds(500)))[0];
        }

        TestContext.WriteLine($"node0 stopped answering {watch.ElapsedMilliseconds} ms after a {lease.TotalMilliseconds} ms lease");
        Assert.IsNull(answer, "node0 kept answering after its lease lapsed");
        Assert.AreEqual("node1", (await AskOneAsync(other, AskTimeout))[0], "other nodes are unaffected");
        Assert.IsGreaterThan(before[FilterCounters.NoLease].Packets, (await nodes[0].ReadCountersAsync())[FilterCounters.NoLease].Packets);

        await nodes[0].RefreshLeaseAsync(LongLease);
        Assert.AreEqual("node0", (await AskOneAsync(mine, AskTimeout))[0], "a refresh restores acceptance");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ForeignBucket_Connections_DroppedBeforeConntrackSoOnlyTheOwnerTracksThem()
    {
        // Every node sees every frame to the vMAC; classify (prerouting, raw) drops a foreign bucket's packets before
        // conntrack (-200), so a node never keeps an entry (e.g. SYN_SENT [UNREPLIED]) of a client it did not serve.
        var source = Client.Addresses4[5];
        var sources = Enumerable.Range(0, 30).Select(i => new IPEndPoint(source, 34000 + i)).ToList();
        var foreignBefore = new ulong[NodeCount];
        for (int i = 0; i < NodeCount; i++)
        {
            foreignBefore[i] = (await nodes[i].ReadCountersAsync())[FilterCounters.Foreign].Packets;
        }

        var answers = await FarmClients.AskTcpAsync(Client.Namespace, sources, Modules.Vip4, Modules.Vip6, Modules.TcpPortPort, AskTimeout);

        string[] owners = [.. sources.Select(s => OwnerName(hasher.BucketOf(new ClientKey(s.Address, (ushort)s.Port), Affinity.ClientIpPort)))];
        AssertAnswers([.. sources.Select(s => s.ToString())], owners, answers);
        int trackedAnywhere = 0;
        for (int i = 0; i < NodeCount; i++)
        {
            var flows = await nodes[i].Host.Namespace.RunAsync(() =>
            {
                using var table = new NetlinkConntrackTable(logs.CreateLogger<NetlinkConntrackTable>());
                return table.Dump();
            });
            int[] tracked = [.. flows.Where(f => f.Source.Equals(source) && f.DestinationPort == Modules.TcpPortPort && f.SourcePort >= 34000 && f.SourcePort < 34000 + sources.Count)
                .Select(f => f.SourcePort).Order()];
            int[] served = [.. sources.Where((_, k) => owners[k] == nodes[i].Name).Select(s => s.Port)];
            CollectionAssert.AreEqual(served, tracked, $"{nodes[i].Name} tracks exactly the connections it answered");
            trackedAnywhere += tracked.Length;
            ulong foreign = (await nodes[i].ReadCountersAsync())[FilterCounters.Foreign].Packets - foreignBefore[i];
            Assert.IsGreaterThanOrEqualTo((ulong)(sources.Count - served.Length), foreign, $"{nodes[i].Name} saw and dropped the others' SYNs");
        }

        Assert.AreEqual(sources.Count, trackedAnywhere, "every connection is tracked by its one owner");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task LiveTable_OwningProcessGone_NodeDropsAtOnceWithItsLeaseValid()
    {
        var mine = Client.Addresses4.First(a => Owner(a) == 0);
        var other = Client.Addresses4.First(a => Owner(a) == 1);
        Assert.AreEqual("node0", (await AskOneAsync(mine, AskTimeout))[0]);

        // The lease is 10 minutes: only the live table's disappearance can stop node0 now.
        await nodes[0].AbandonFilterAsync();
        string tables = (await nodes[0].Host.Namespace.NftAsync(["list", "tables"], cancellationToken: Ct)).StandardOutput;
        StringAssert.Contains(tables, "table inet farm_web", "the filter stays");
        Assert.DoesNotContain("farmlive_web", tables, "the kernel deleted the live table with its owner's socket");
        Assert.IsNull((await AskOneAsync(mine, TimeSpan.FromMilliseconds(500)))[0], "node0 answered after the process that programs it was gone");
        Assert.AreEqual("node1", (await AskOneAsync(other, AskTimeout))[0], "other nodes are unaffected");

        await nodes[0].RestartFilterAsync(Split(0), LongLease);
        Assert.AreEqual("node0", (await AskOneAsync(mine, AskTimeout))[0], "a restarted filter serves again");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Handover_DrainingKeepsTrackedConnectionIncomingTakesNewOnes()
    {
        var address = Client.Addresses4[3];
        var (bucket, previous, next) = OwnerAndNext(address);
        try
        {
            var (established, first) = await FarmClients.OpenAsync(Client.Namespace, new IPEndPoint(address, 0), Modules.Vip4, Modules.TcpPort, AskTimeout);
            using (established)
            {
                Assert.AreEqual($"node{previous}", first);

                // Release before acquire: the previous owner drains, then the next one takes the bucket as incoming.
                await nodes[previous].ApplyAsync(new BucketAssignment(2, OwnedBy(previous).Where(b => b != bucket), [], [bucket]));
                await nodes[next].ApplyAsync(new BucketAssignment(2, OwnedBy(next), [bucket], []));

                Assert.AreEqual($"node{previous}", await FarmClients.AskAgainAsync(established, AskTimeout), "the draining node keeps its tracked connection");
                var (fresh, name) = await FarmClients.OpenAsync(Client.Namespace, new IPEndPoint(address, 0), Modules.Vip4, Modules.TcpPort, AskTimeout);
                fresh.Dispose();
                Assert.AreEqual($"node{next}", name, "a new connection goes to the incoming node");

                // The incoming node saw the old connection's mid-stream packets and dropped them silently (no RST reached the client).
                Assert.AreEqual($"node{previous}", await FarmClients.AskAgainAsync(established, AskTimeout));
                var nextCounters = await nodes[next].ReadCountersAsync();
                var previousCounters = await nodes[previous].ReadCountersAsync();
                TestContext.WriteLine($"handover drops: node{next} (incoming) {nextCounters[FilterCounters.HandoverDrop].Packets}, node{previous} (draining) {previousCounters[FilterCounters.HandoverDrop].Packets}");
                Assert.IsGreaterThan(0UL, nextCounters[FilterCounters.HandoverDrop].Packets);
                Assert.IsGreaterThan(0UL, previousCounters[FilterCounters.HandoverDrop].Packets);
            }

            // Drain done: the bucket is owned by the next node only.
            await nodes[previous].ApplyAsync(new BucketAssignment(3, OwnedBy(previous).Where(b => b != bucket), [], []));
            await nodes[next].ApplyAsync(new BucketAssignment(3, OwnedBy(next).Append(bucket), [], []));
            Assert.AreEqual($"node{next}", (await AskOneAsync(address, AskTimeout))[0]);
        }
        finally
        {
            await RestoreSplitAsync(previous, next);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ReturningBucket_StaleEntriesDeleted_OldUdpFlowAnsweredOnlyByItsCurrentHolder()
    {
        // The node that lost a bucket drops its packets before conntrack, so nothing ends its entries of the flows it
        // answered; when the bucket comes back (claimed here, while the current holder drains it), such an entry would
        // let it answer that flow again beside the holder. Its cleaner deletes them once the bucket is no longer its.
        var address = Client.Addresses4[11];
        var (bucket, previous, next) = OwnerAndNext(address);
        using var cleaner = await nodes[previous].Host.Namespace.RunAsync(() =>
            new StaleEntryCleaner(new NetlinkConntrackTable(logs.CreateLogger<NetlinkConntrackTable>()), logs.CreateLogger<StaleEntryCleaner>()));
        using var flow = await OpenFlowAsync(address);
        bool Tracks(IReadOnlyList<TrackedFlow> flows) => flows.Any(f => f.Source.Equals(address) && f.SourcePort == ((IPEndPoint)flow.LocalEndPoint!).Port);
        try
        {
            await nodes[previous].Host.Namespace.RunAsync(() =>
            {
                cleaner.Started(module);
                cleaner.AfterApply(module.Name, cleaner.BeforeApply(module, accepting: true, OwnedSnapshot(1, OwnedBy(previous))));
            });
            CollectionAssert.AreEqual(new[] { $"node{previous}" }, await AskAllAsync(flow, first: true));
            Assert.IsTrue(Tracks(await DumpAsync(nodes[previous])), "the owner tracks the flow it answered");

            // The bucket moves on; the flow goes on with its new owner.
            var without = OwnedBy(previous).Where(b => b != bucket).ToList();
            await nodes[previous].ApplyAsync(new BucketAssignment(2, without, [], []));
            await nodes[previous].Host.Namespace.RunAsync(() => cleaner.AfterApply(module.Name, cleaner.BeforeApply(module, accepting: true, OwnedSnapshot(2, without))));
            await nodes[next].ApplyAsync(new BucketAssignment(2, OwnedBy(next).Append(bucket), [], []));
            Assert.IsTrue(cleaner.WaitIdle(TimeSpan.FromSeconds(10)), "the cleaner's thread deleted what it had to");
            Assert.IsFalse(Tracks(await DumpAsync(nodes[previous])), "the entry went with the bucket");
            CollectionAssert.AreEqual(new[] { $"node{next}" }, await AskAllAsync(flow));

            // The bucket comes back: claimed on the old node while the new one drains it.
            await nodes[next].ApplyAsync(new BucketAssignment(3, OwnedBy(next), [], [bucket]));
            await nodes[previous].ApplyAsync(new BucketAssignment(3, without, [], [], [bucket], []));
            CollectionAssert.AreEqual(new[] { $"node{next}" }, await AskAllAsync(flow), "only the node that serves the flow now answers it");
        }
        finally
        {
            await RestoreSplitAsync(previous, next);
        }
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task UdpFlowOfADrainingNode_NewOwnerSwapsClaimedAndIncomingWhileItFlows_OnlyTheDrainingNodeAnswers()
    {
        // A packet meets the state in one lookup; one rule per state set let a packet that straddled a batch meet neither
        // state and be taken as new here (docs/dataplane.md, "One lookup decides the state"). The new owner's batches
        // move the bucket between claimed and incoming (which lists the flow as foreign) while the flow floods in.
        const int Batches = 1500;
        var address = Client.Addresses4[17];
        var (bucket, previous, next) = OwnerAndNext(address);
        using var flow = await OpenFlowAsync(address);
        var endpoint = (IPEndPoint)flow.LocalEndPoint!;
        try
        {
            CollectionAssert.AreEqual(new[] { $"node{previous}" }, await AskAllAsync(flow, first: true), "the owner answers and tracks the flow");
            await nodes[previous].ApplyAsync(new BucketAssignment(2, OwnedBy(previous).Where(b => b != bucket), [], [bucket]));
            var incoming = new BucketAssignment(3, OwnedBy(next), [bucket], [], [], [endpoint]);
            var claimed = new BucketAssignment(4, OwnedBy(next), [], [], [bucket], []);

            var answers = new Dictionary<string, int>(StringComparer.Ordinal);
            long sent = 0;
            using var stop = new CancellationTokenSource();
            var vip = new IPEndPoint(Modules.Vip4, Modules.UdpPort);
            // Both on threads of their own, with blocking socket calls: on 2 cores, pool threads were all busy (the batches
            // below run on one) and the receiver's continuations ran too late to read a single answer (CI, 2026-12-05).
            var sender = Task.Factory.StartNew(() =>
            {
                byte[] who = "who"u8.ToArray();
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        flow.SendTo(who, vip);
                        sent++;
                    }
                    catch (SocketException)
                    {
                        // A full queue: the next one goes.
                    }
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            flow.ReceiveTimeout = 100;
            var receiver = Task.Factory.StartNew(() =>
            {
                byte[] buffer = new byte[64];
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                while (true)
                {
                    try
                    {
                        int received = flow.ReceiveFrom(buffer, ref from);
                        string name = Encoding.ASCII.GetString(buffer, 0, received);
                        answers[name] = answers.GetValueOrDefault(name) + 1;
                    }
                    catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                    {
                        if (stop.IsCancellationRequested)
                        {
                            return; // stopped, and nothing came for a timeout
                        }
                    }
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            var watch = Stopwatch.StartNew();
            await nodes[next].WithFilterAsync(filter =>
            {
                for (int i = 0; i < Batches; i++)
                {
                    filter.Apply(i % 2 == 0 ? incoming : claimed);
                    if (i % 20 == 0)
                    {
                        filter.RefreshLease(LongLease); // also lets the foreign flows of earlier batches go
                    }
                }

                return Batches;
            });
            watch.Stop();
            await Task.Delay(300); // answers still on their way
            await stop.CancelAsync();
            await Task.WhenAll(sender, receiver);

            TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Batches} batches on node{next} in {watch.ElapsedMilliseconds} ms while {sent} datagrams were sent; answers: {string.Join(", ", answers.Select(a => $"{a.Key} {a.Value}"))}"));
            Assert.IsGreaterThan(0, answers.GetValueOrDefault($"node{previous}"), "the draining node kept answering its flow");
            Assert.AreEqual(0, answers.GetValueOrDefault($"node{next}"), "the new owner never took the draining node's flow as new");
            Assert.HasCount(1, answers.Keys, "nobody else answered");
        }
        finally
        {
            await RestoreSplitAsync(previous, next);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task PortWithoutRule_ToVip_DroppedSilentlyNeverReset()
    {
        var before = await Task.WhenAll(nodes.Select(n => n.ReadCountersAsync()));
        using var socket = await Client.Namespace.RunAsync(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));

        // No node listens on 9999: a kernel that saw the SYN would answer RST (connection refused); the filter must drop it first.
        var e = await Assert.ThrowsAsync<OperationCanceledException>(async () => await socket.ConnectAsync(new IPEndPoint(Modules.Vip4, 9999), cts.Token));

        var after = await Task.WhenAll(nodes.Select(n => n.ReadCountersAsync()));
        Assert.IsNotNull(e);
        Assert.IsTrue(Enumerable.Range(0, NodeCount).All(i => after[i][FilterCounters.Unmatched].Packets > before[i][FilterCounters.Unmatched].Packets), "every node dropped the SYN as unmatched");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task HotPath_LeaseRefreshAndBucketApply_AreSingleInProcessTransactions()
    {
        var split = Split(0);
        var moved = new BucketAssignment(9, OwnedBy(0).Where(b => b % 2 == 0), OwnedBy(1).Take(10), OwnedBy(0).Where(b => b % 2 == 1));
        var (refreshMs, applyMs) = await nodes[0].WithFilterAsync(filter =>
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < 200; i++)
            {
                filter.RefreshLease(LongLease);
            }

            double refresh = watch.Elapsed.TotalMilliseconds / 200;
            watch.Restart();
            for (int i = 0; i < 50; i++)
            {
                filter.Apply(i % 2 == 0 ? moved : split);
            }

            return (refresh, watch.Elapsed.TotalMilliseconds / 50);
        });

        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RefreshLease (2 VIPs): {refreshMs:0.000} ms; Apply ({module.Buckets} buckets, fragmented): {applyMs:0.000} ms"));
        Assert.IsLessThan(50.0, refreshMs, "a lease refresh must fit well inside a heartbeat interval");
        Assert.AreEqual("node0", (await AskOneAsync(Client.Addresses4.First(a => Owner(a) == 0), AskTimeout))[0], "the split is back in force");
    }

    private static async Task BuildFarmAsync()
    {
        var watch = Stopwatch.StartNew();
        uint seed = (uint)Random.Shared.NextInt64(0, 1L << 32);
        module = Modules.Web(seed: seed);
        hasher = new BucketHasher(module.Buckets, module.Seed);
        stateRoot = Directory.CreateTempSubdirectory("farm-dataplane-").FullName;
        logs = new TestLogSink();
        topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = NodeCount, Clients = 1, AddressesPerClient = AddressesPerClient });
        try
        {
            nodes = [.. topology.Nodes.Select((host, i) => new FarmNode(host, module, Path.Combine(stateRoot, host.Name), logs))];
            for (int i = 0; i < NodeCount; i++)
            {
                await nodes[i].StartAsync(Split(i), LongLease, [Modules.TcpPort, Modules.TcpPortPort], Modules.UdpPort);
            }
        }
        catch
        {
            await TearDownAsync();
            throw;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Farm of {NodeCount} nodes (seed 0x{seed:x8}) ready in {watch.ElapsedMilliseconds} ms"));
    }

    private static BucketAssignment Split(int node) => new(1, OwnedBy(node), [], []);

    /// <summary>The bucket of <paramref name="address"/> (client_ip), the node that owns it in the split, and the node after that one.</summary>
    private static (int Bucket, int Previous, int Next) OwnerAndNext(IPAddress address)
    {
        int bucket = hasher.BucketOf(new ClientKey(address), Affinity.ClientIp);
        int previous = bucket % NodeCount;
        return (bucket, previous, (previous + 1) % NodeCount);
    }

    /// <summary>Gives <paramref name="changed"/> their buckets of the split again, the state every test starts from.</summary>
    private static async Task RestoreSplitAsync(params int[] changed)
    {
        foreach (int node in changed)
        {
            await nodes[node].ApplyAsync(Split(node));
        }
    }

    /// <summary>All replies to one datagram of <paramref name="flow"/> within 700 ms (the first: until one comes, for neighbor resolution).</summary>
    /// <summary>A UDP socket of the client bound to <paramref name="address"/> (created inside the client's namespace): one flow.</summary>
    private static Task<Socket> OpenFlowAsync(IPAddress address) => Client.Namespace.RunAsync(() =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    });

    private static async Task<string[]> AskAllAsync(Socket flow, bool first = false)
    {
        var vip = new IPEndPoint(Modules.Vip4, Modules.UdpPort);
        var names = new List<string>();
        byte[] buffer = new byte[256];
        for (int attempt = 0; attempt < (first ? 5 : 1) && names.Count == 0; attempt++)
        {
            await flow.SendToAsync("who"u8.ToArray(), vip);
            using var window = new CancellationTokenSource(TimeSpan.FromMilliseconds(700));
            try
            {
                while (true)
                {
                    var received = await flow.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), window.Token);
                    names.Add(Encoding.ASCII.GetString(buffer, 0, received.ReceivedBytes));
                }
            }
            catch (OperationCanceledException)
            {
                // The window closed: these are all the answers.
            }
        }

        return [.. names.Order(StringComparer.Ordinal)];
    }

    private static Task<IReadOnlyList<TrackedFlow>> DumpAsync(FarmNode node) => node.Host.Namespace.RunAsync(() =>
    {
        using var table = new NetlinkConntrackTable(logs.CreateLogger<NetlinkConntrackTable>());
        return table.Dump();
    });

    /// <summary>The ownership membership would hand this node's data plane: <paramref name="owned"/> owned, the rest none.</summary>
    private static OwnershipSnapshot OwnedSnapshot(long version, IEnumerable<int> owned)
    {
        var states = new BucketState[module.Buckets];
        foreach (int b in owned)
        {
            states[b] = BucketState.Owned;
        }

        return new(version, null, null, System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(
            StringComparer.Ordinal, [KeyValuePair.Create(module.Name, new ModuleOwnership(module.Name, states, []))]));
    }

    private static IEnumerable<int> OwnedBy(int node) => Enumerable.Range(0, module.Buckets).Where(b => b % NodeCount == node);

    private static int Owner(IPAddress address) => hasher.BucketOf(new ClientKey(address), Affinity.ClientIp) % NodeCount;

    private static string OwnerName(int bucket) => $"node{bucket % NodeCount}";

    private static Task<string?[]> AskOneAsync(IPAddress source, TimeSpan timeout) =>
        FarmClients.AskTcpAsync(Client.Namespace, [new IPEndPoint(source, 0)], Modules.Vip4, Modules.Vip6, Modules.TcpPort, timeout);

    private static string Distribution(string?[] answers) =>
        string.Join(", ", answers.GroupBy(a => a ?? "none").OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"));

    private static void AssertAnswers(string[] what, string[] expected, string?[] actual)
    {
        var wrong = Enumerable.Range(0, what.Length)
            .Where(i => expected[i] != actual[i])
            .Select(i => $"{what[i]}: expected {expected[i]}, answered by {actual[i] ?? "nobody"}")
            .ToList();
        Assert.IsEmpty(wrong, $"{wrong.Count} of {what.Length} wrong:{Environment.NewLine}{string.Join(Environment.NewLine, wrong.Take(20))}");
    }
}
