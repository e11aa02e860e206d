using Farm.DataPlane.Tests.Kernel;
using Farm.Testing.Network;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Tests.Conntrack;

/// <summary>The real ctnetlink dump and lookups, in a fresh network namespace, over loopback connections of test addresses.</summary>
[TestClass]
public sealed class NetlinkConntrackTableTests : KernelTestClass
{
    private static readonly IPAddress Server4 = IPAddress.Parse("198.18.0.1");
    private static readonly IPAddress Client4 = IPAddress.Parse("198.18.0.2");
    private static readonly IPAddress Server6 = IPAddress.Parse("2001:db8::1");
    private static readonly IPAddress Client6 = IPAddress.Parse("2001:db8::2");

    // Conntrack hooks are registered in a namespace only once a ruleset there uses ct.
    private const string CtRuleset = """
        table inet farm_conntrack_test {
          chain input {
            type filter hook input priority 0; policy accept;
            ct state established,related counter accept
          }
        }
        """;

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Dump_TcpAndUdpOverLoopback_ListsBothLiveAndClosedTcpTurnsNonLive()
    {
        await using var ns = await CreateNamespaceAsync();
        var logs = new TestLogSink();
        using var loopback = await ns.RunAsync(() => LoopbackFlows.Open(logs, tcp: (Server4, Client4), udp: (Server6, Client6), answerUdp: true));
        var table = loopback.Table;
        var tcp = loopback.TcpFlow(live: true);
        var udp = loopback.UdpFlow(live: true);
        bool IsTcp(TrackedFlow f) => f.Protocol == TransportProtocol.Tcp && f.SourcePort == tcp.SourcePort;
        bool IsUdp(TrackedFlow f) => f.Protocol == TransportProtocol.Udp && f.SourcePort == udp.SourcePort;

        var flows = await ns.RunAsync(table.Dump);
        TestContext.WriteLine("Open:\n" + string.Join('\n', flows));

        Assert.AreEqual(tcp, flows.Single(IsTcp));
        Assert.AreEqual(udp, flows.Single(IsUdp));

        loopback.CloseTcp();
        var closed = await UntilNotLiveAsync(async () => (TrackedFlow?)(await ns.RunAsync(table.Dump)).Single(IsTcp));

        var after = await ns.RunAsync(table.Dump);
        TestContext.WriteLine("Closed:\n" + string.Join('\n', after));
        Assert.IsFalse(closed!.Value.Live, $"the closed connection is still live: {closed}");
        Assert.IsTrue(after.Single(IsUdp).Live, "UDP stays live while conntrack tracks it");
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Dump_ThousandsOfUdpFlows_AllListedInOneConsistentDump()
    {
        const int FlowCount = 3000;
        var logs = new TestLogSink();

        var (flows, timings) = await WithUdpFlowsAsync(logs, FlowCount, firstPort: 20000, table =>
        {
            var timings = new List<TimeSpan>();
            IReadOnlyList<TrackedFlow> flows = [];
            for (int round = 0; round < 5; round++)
            {
                long start = TimeProvider.System.GetTimestamp();
                flows = table.Dump();
                timings.Add(TimeProvider.System.GetElapsedTime(start));
            }

            return (flows, timings);
        });

        TestContext.WriteLine($"{flows.Count} flows; dump times: {string.Join(", ", timings.Select(t => $"{t.TotalMilliseconds:0.00} ms"))}");
        var ports = flows.Where(f => f.Protocol == TransportProtocol.Udp && f.Source.Equals(Client4) && f.Destination.Equals(Server4))
            .Select(f => f.DestinationPort)
            .ToHashSet();
        Assert.HasCount(FlowCount, ports);
        Assert.IsTrue(Enumerable.Range(20000, FlowCount).All(ports.Contains));
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Dump_RealFlowsThroughDrainScanner_BucketOfClientEqualsTheDataPlanesHash()
    {
        await using var ns = await CreateNamespaceAsync();
        var module = Modules.Web() with { Vips = [Server4], Rules = [new PortRuleConfig { Protocol = TransportProtocol.Udp, FirstPort = 5353, LastPort = 5353 }] };
        var scanner = new DrainScanner(module);
        var logs = new TestLogSink();

        var (flows, clientPort) = await ns.RunAsync(() =>
        {
            using var table = new NetlinkConntrackTable(logs.CreateLogger<NetlinkConntrackTable>());
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            sender.Bind(new IPEndPoint(Client4, 0));
            sender.SendTo("x"u8, new IPEndPoint(Server4, 5353));
            return (table.Dump(), ((IPEndPoint)sender.LocalEndPoint!).Port);
        });

        var flow = flows.Single(f => f.SourcePort == clientPort);
        int bucket = scanner.BucketOf(flow);
        var scan = scanner.Scan(flows, [bucket]);

        Assert.AreEqual(new Farm.Core.Hashing.BucketHasher(module.Buckets, module.Seed).BucketOf(new Farm.Core.Hashing.ClientKey(Client4), Farm.Core.Hashing.Affinity.ClientIp), bucket);
        CollectionAssert.AreEqual(new[] { bucket }, scan.BusyBuckets.ToArray());
        CollectionAssert.AreEqual(new[] { new FlowKey(Client4, clientPort) }, scan.UdpFlows.ToArray());
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Lookup_TcpAndUdpOverLoopback_FoundLiveClosedTcpTurnsNonLiveUnknownFlowNull()
    {
        await using var ns = await CreateNamespaceAsync();
        var logs = new TestLogSink();
        using var loopback = await ns.RunAsync(() => LoopbackFlows.Open(logs, tcp: (Server6, Client6), udp: (Server4, Client4), answerUdp: false));
        var table = loopback.Table;
        // Live: false on purpose: a lookup goes by the tuple alone and reports the entry's own state.
        var tcp = loopback.TcpFlow(live: false);
        var udp = loopback.UdpFlow(live: false);
        var unknown = new TrackedFlow(TransportProtocol.Tcp, Client4, 1, Server4, 1, Live: true);

        var open = await ns.RunAsync(() => table.Lookup([tcp, udp, unknown]));
        TestContext.WriteLine("Open: " + string.Join(" | ", open));

        Assert.HasCount(3, open);
        Assert.AreEqual(tcp with { Live = true }, open[0]);
        Assert.AreEqual(udp with { Live = true }, open[1]);
        Assert.IsNull(open[2], "a flow conntrack never saw");

        loopback.CloseTcp();
        var closed = await UntilNotLiveAsync(async () => (await ns.RunAsync(() => table.Lookup([tcp])))[0]);

        var after = await ns.RunAsync(() => table.Lookup([tcp, udp, unknown]));
        TestContext.WriteLine("Closed: " + string.Join(" | ", after));
        Assert.AreEqual(tcp with { Live = false }, closed, "the closed connection's entry stays (TIME_WAIT or CLOSE), no longer live");
        Assert.AreEqual(udp with { Live = true }, after[1], "UDP stays live while conntrack tracks it");
        Assert.IsNull(after[2]);
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Lookup_ThousandsOfUdpFlows_EveryDumpedFlowFoundAndCostPrintedBesideTheDumps()
    {
        const int FlowCount = 3000;
        const int Rounds = 20;
        var logs = new TestLogSink();

        var (dumped, found, missing, timings) = await WithUdpFlowsAsync(logs, FlowCount, firstPort: 20000, table =>
        {
            TestContext.WriteLine($"Lookups per datagram: {table.BatchSize}");
            var dumped = DumpUdpFlows(table);
            var found = table.Lookup(dumped);
            var never = Enumerable.Range(1, 100).Select(p => new TrackedFlow(TransportProtocol.Udp, Client4, p, Server4, p, Live: true)).ToArray();
            var missing = table.Lookup(never);

            // Costs, after the calls above warmed everything up: the median of Rounds calls each.
            var timings = new Dictionary<string, double>();
            void Measure(string name, Action call)
            {
                var times = new List<double>();
                for (int round = 0; round < Rounds; round++)
                {
                    long start = TimeProvider.System.GetTimestamp();
                    call();
                    times.Add(TimeProvider.System.GetElapsedTime(start).TotalMilliseconds);
                }

                times.Sort();
                timings[name] = times[Rounds / 2];
                TestContext.WriteLine($"{name}: median {times[Rounds / 2]:0.000} ms, min {times[0]:0.000} ms, max {times[^1]:0.000} ms");
            }

            Measure($"Dump ({FlowCount} entries in the namespace)", () => table.Dump());
            Measure("Lookup of 100 flows", () => table.Lookup(dumped[..100]));
            Measure("Lookup of 1000 flows", () => table.Lookup(dumped[..1000]));
            Measure($"Lookup of all {FlowCount} flows", () => table.Lookup(dumped));
            return (dumped, found, missing, timings);
        });

        TestContext.WriteLine("Log:\n" + string.Join('\n', logs.Entries));
        Assert.HasCount(FlowCount, dumped);
        CollectionAssert.AreEqual(dumped, found.ToArray(), "each flow's lookup answers the entry the dump listed");
        Assert.IsTrue(missing.All(f => f is null), "flows never sent are not found");
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Lookup_BatchLargerThanTheReceiveBuffer_KernelDropsAnswersAndTheRestIsAskedAgainInSmallerBatches()
    {
        const int FlowCount = 600;
        var logs = new TestLogSink();

        var (dumped, found, batchSize) = await WithUdpFlowsAsync(
            logs,
            FlowCount,
            firstPort: 30000,
            table =>
            {
                var dumped = DumpUdpFlows(table);
                return (dumped, table.Lookup(dumped), table.BatchSize);
            },
            // A few KiB of receive buffer, yet 200 lookups to a datagram: the kernel must drop most answers.
            open: logger => new NetlinkConntrackTable(
                logger,
                NetlinkConntrackTable.OpenSocket(NetlinkConntrackTable.DefaultReceiveTimeout, 4096),
                batchSize: NetlinkConntrackTable.LookupBatchSize));

        TestContext.WriteLine($"Lookups per datagram afterwards: {batchSize}\n" + string.Join('\n', logs.Entries));
        Assert.HasCount(FlowCount, dumped);
        CollectionAssert.AreEqual(dumped, found.ToArray());
        Assert.IsLessThan(NetlinkConntrackTable.LookupBatchSize, batchSize);
        Assert.IsTrue(logs.Messages.Any(e => e.Contains("dropped answers")), "the overflow happened and was logged");
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Delete_HalfOfManyUdpFlowsAndOneUnknown_ExactlyThoseGoneTheUnknownNull()
    {
        const int FlowCount = 500;
        var logs = new TestLogSink();

        var (dumped, deleted, after) = await WithUdpFlowsAsync(logs, FlowCount, firstPort: 40000, table =>
        {
            var dumped = DumpUdpFlows(table);
            var unknown = new TrackedFlow(TransportProtocol.Udp, Client4, 1, Server4, 1, Live: true);
            var deleted = table.Delete([.. dumped.Where(f => f.DestinationPort % 2 == 0), unknown]);
            return (dumped, deleted, DumpUdpFlows(table));
        });

        Assert.HasCount(FlowCount, dumped);
        var even = dumped.Where(f => f.DestinationPort % 2 == 0).ToArray();
        CollectionAssert.AreEqual(even, deleted.Take(even.Length).ToArray(), "each deleted flow answered as itself");
        Assert.IsNull(deleted[^1], "a flow the table never held");
        CollectionAssert.AreEqual(dumped.Where(f => f.DestinationPort % 2 == 1).ToArray(), after, "exactly the others remain");
        logs.AssertNoWarnings();
    }

    /// <summary>
    /// In a fresh namespace: opens a table (the default one, or <paramref name="open"/>'s), sends <paramref name="count"/>
    /// UDP flows from <paramref name="firstPort"/> (<see cref="SendUdpFlows"/>) and returns what <paramref name="act"/>
    /// answers of the table, all inside the namespace.
    /// </summary>
    private async Task<T> WithUdpFlowsAsync<T>(
        TestLogSink logs, int count, int firstPort, Func<NetlinkConntrackTable, T> act,
        Func<ILogger<NetlinkConntrackTable>, NetlinkConntrackTable>? open = null)
    {
        await using var ns = await CreateNamespaceAsync();
        return await ns.RunAsync(() =>
        {
            var logger = logs.CreateLogger<NetlinkConntrackTable>();
            using var table = open is null ? new NetlinkConntrackTable(logger) : open(logger);
            SendUdpFlows(count, firstPort);
            return act(table);
        });
    }

    /// <summary>
    /// Sends one datagram from Client4 to each of <paramref name="count"/> ports of Server4 from <paramref name="firstPort"/>:
    /// nobody listens, yet every datagram creates an (unreplied) conntrack entry on its way out.
    /// </summary>
    private static void SendUdpFlows(int count, int firstPort)
    {
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(Client4, 0));
        for (int i = 0; i < count; i++)
        {
            sender.SendTo("x"u8, new IPEndPoint(Server4, firstPort + i));
        }
    }

    /// <summary>The UDP flows Client4 → Server4 in a dump, by destination port.</summary>
    private static TrackedFlow[] DumpUdpFlows(NetlinkConntrackTable table) =>
        table.Dump()
            .Where(f => f.Protocol == TransportProtocol.Udp && f.Source.Equals(Client4) && f.Destination.Equals(Server4))
            .OrderBy(f => f.DestinationPort)
            .ToArray();

    /// <summary>Asks again, up to 100 times 20 ms apart, until the closed TCP flow is no longer live; returns the last answer.</summary>
    private async Task<TrackedFlow?> UntilNotLiveAsync(Func<Task<TrackedFlow?>> ask)
    {
        TrackedFlow? flow = null;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            flow = await ask();
            if (flow is { Live: false })
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, Ct);
        }

        return flow;
    }

    /// <summary>An established TCP connection (one exchange done), inside the calling thread's namespace.</summary>
    private static (TcpListener Listener, Socket Client, Socket Accepted) OpenTcp(IPAddress server, IPAddress client)
    {
        var listener = new TcpListener(server, 0);
        listener.Start();
        var socket = new Socket(client.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(client, 0));
        socket.Connect(listener.LocalEndpoint);
        var accepted = listener.AcceptSocket();
        socket.Send("hello"u8);
        accepted.Receive(new byte[16]);
        return (listener, socket, accepted);
    }

    /// <summary>A UDP flow: one datagram client → server and, when <paramref name="answer"/>, one back.</summary>
    private static (Socket Server, Socket Client) OpenUdp(IPAddress server, IPAddress client, bool answer)
    {
        var udpServer = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        udpServer.Bind(new IPEndPoint(server, 0));
        var udpClient = new Socket(client.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        udpClient.Bind(new IPEndPoint(client, 0));
        udpClient.SendTo("ping"u8, udpServer.LocalEndPoint!);
        if (answer)
        {
            EndPoint from = new IPEndPoint(server.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
            udpServer.ReceiveFrom(new byte[16], ref from);
            udpServer.SendTo("pong"u8, from);
        }

        return (udpServer, udpClient);
    }

    /// <summary>A ctnetlink table, one established TCP connection and one UDP flow, opened inside a namespace.</summary>
    private sealed record LoopbackFlows(
        NetlinkConntrackTable Table,
        (IPAddress Server, IPAddress Client) TcpEnds,
        (IPAddress Server, IPAddress Client) UdpEnds,
        TcpListener Listener,
        Socket Client,
        Socket Accepted,
        Socket UdpServer,
        Socket UdpClient) : IDisposable
    {
        public static LoopbackFlows Open(
            TestLogSink logs, (IPAddress Server, IPAddress Client) tcp, (IPAddress Server, IPAddress Client) udp, bool answerUdp)
        {
            var table = new NetlinkConntrackTable(logs.CreateLogger<NetlinkConntrackTable>());
            var (listener, client, accepted) = OpenTcp(tcp.Server, tcp.Client);
            var (udpServer, udpClient) = OpenUdp(udp.Server, udp.Client, answerUdp);
            return new LoopbackFlows(table, tcp, udp, listener, client, accepted, udpServer, udpClient);
        }

        /// <summary>The TCP connection as conntrack tracks it: client to server.</summary>
        public TrackedFlow TcpFlow(bool live) => new(
            TransportProtocol.Tcp, TcpEnds.Client, ((IPEndPoint)Client.LocalEndPoint!).Port, TcpEnds.Server, ((IPEndPoint)Listener.LocalEndpoint).Port, live);

        /// <summary>The UDP flow as conntrack tracks it: client to server.</summary>
        public TrackedFlow UdpFlow(bool live) => new(
            TransportProtocol.Udp, UdpEnds.Client, ((IPEndPoint)UdpClient.LocalEndPoint!).Port, UdpEnds.Server, ((IPEndPoint)UdpServer.LocalEndPoint!).Port, live);

        /// <summary>A graceful close from both sides: conntrack follows the FINs to TIME_WAIT (or CLOSE).</summary>
        public void CloseTcp()
        {
            Client.Shutdown(SocketShutdown.Send);
            Assert.AreEqual(0, Accepted.Receive(new byte[16]), "the server sees the client's FIN");
            Accepted.Close();
            Client.Close();
        }

        public void Dispose()
        {
            Accepted.Dispose();
            Client.Dispose();
            Listener.Dispose();
            UdpClient.Dispose();
            UdpServer.Dispose();
            Table.Dispose();
        }
    }

    private async Task<NetworkNamespace> CreateNamespaceAsync()
    {
        var ns = await NetworkNamespace.CreateAsync(cancellationToken: Ct);
        try
        {
            await ns.SetLinkUpAsync("lo", Ct);
            foreach (var address in new[] { Server4, Client4, Server6, Client6 })
            {
                await ns.AddAddressAsync("lo", address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128, Ct);
            }

            await ns.ApplyNftAsync(CtRuleset, Ct);
            return ns;
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
    }
}
