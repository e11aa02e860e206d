namespace Farm.DataPlane.Tests.Conntrack;

[TestClass]
public sealed class DrainScannerTests
{
    // Modules.Web: 256 buckets; tcp 8080 client_ip, tcp 8081 client_ip_port, udp 5353 client_ip.
    private static readonly ModuleConfig Module = Modules.Web();
    private static readonly BucketHasher Hasher = new(Module.Buckets, Module.Seed);
    private static readonly IPAddress OtherAddress = IPAddress.Parse("198.18.0.200");

    private readonly DrainScanner scanner = new(Module);

    [TestMethod]
    public void BucketOf_ClientIpRule_BucketHasherOfSourceAddressWhateverThePort()
    {
        var client = IPAddress.Parse("198.18.1.7");
        int expected = Hasher.BucketOf(new ClientKey(client), Affinity.ClientIp);

        Assert.AreEqual(expected, scanner.BucketOf(Tcp(client, 40000, Modules.Vip4, 8080)));
        Assert.AreEqual(expected, scanner.BucketOf(Tcp(client, 51234, Modules.Vip4, 8080)));
        Assert.AreEqual(expected, scanner.BucketOf(Udp(client, 1, Modules.Vip4, 5353)));
    }

    [TestMethod]
    public void BucketOf_ClientIpPortRule_BucketHasherOfSourceAddressAndPort()
    {
        var client = IPAddress.Parse("198.18.1.7");
        var buckets = new HashSet<int>();
        for (int port = 40000; port < 40064; port++)
        {
            int bucket = scanner.BucketOf(Tcp(client, port, Modules.Vip4, 8081));
            Assert.AreEqual(Hasher.BucketOf(new ClientKey(client, (ushort)port), Affinity.ClientIpPort), bucket, $"port {port}");
            buckets.Add(bucket);
        }

        Assert.IsGreaterThan(1, buckets.Count, "the source port spreads one client over buckets");
    }

    [TestMethod]
    public void BucketOf_Ipv6Client_BucketHasherOfIpv6Address()
    {
        var client = IPAddress.Parse("2001:db8::1:7");

        Assert.AreEqual(Hasher.BucketOf(new ClientKey(client), Affinity.ClientIp), scanner.BucketOf(Tcp(client, 40000, Modules.Vip6, 8080)));
        Assert.AreEqual(Hasher.BucketOf(new ClientKey(client, 40000), Affinity.ClientIpPort), scanner.BucketOf(Tcp(client, 40000, Modules.Vip6, 8081)));
    }

    [TestMethod]
    public void BucketOf_NotAVip_MinusOne()
    {
        Assert.AreEqual(-1, scanner.BucketOf(Tcp(IPAddress.Parse("198.18.1.7"), 40000, OtherAddress, 8080)));
        Assert.AreEqual(-1, scanner.BucketOf(Tcp(Modules.Vip4, 8080, IPAddress.Parse("198.18.1.7"), 40000)), "the node's own connection from the VIP");
    }

    [TestMethod]
    public void BucketOf_PortOrProtocolWithoutRule_MinusOne()
    {
        var client = IPAddress.Parse("198.18.1.7");

        Assert.AreEqual(-1, scanner.BucketOf(Tcp(client, 40000, Modules.Vip4, 22)));
        Assert.AreEqual(-1, scanner.BucketOf(Udp(client, 40000, Modules.Vip4, 8080)), "udp on a tcp port");
        Assert.AreEqual(-1, scanner.BucketOf(Tcp(client, 40000, Modules.Vip4, 5353)), "tcp on a udp port");
    }

    [TestMethod]
    public void BucketOf_PortRange_EveryPortInsideMatches()
    {
        var module = Modules.Web() with
        {
            Rules = [new PortRuleConfig { Protocol = TransportProtocol.Udp, FirstPort = 8000, LastPort = 8100, Affinity = Affinity.ClientIpPort }],
        };
        var rangeScanner = new DrainScanner(module);
        var client = IPAddress.Parse("198.18.1.7");

        Assert.AreEqual(Hasher.BucketOf(new ClientKey(client, 999), Affinity.ClientIpPort), rangeScanner.BucketOf(Udp(client, 999, Modules.Vip4, 8000)));
        Assert.AreNotEqual(-1, rangeScanner.BucketOf(Udp(client, 999, Modules.Vip4, 8100)));
        Assert.AreEqual(-1, rangeScanner.BucketOf(Udp(client, 999, Modules.Vip4, 8101)));
        Assert.AreEqual(-1, rangeScanner.BucketOf(Udp(client, 999, Modules.Vip4, 7999)));
    }

    [TestMethod]
    public void Scan_LiveTcpInDrainingBucket_BusyAndOthersIdle()
    {
        var busyClient = IPAddress.Parse("198.18.1.7");
        int busyBucket = Bucket4(busyClient);
        int idleBucket = (busyBucket + 1) % Module.Buckets;

        var scan = scanner.Scan([Tcp(busyClient, 40000, Modules.Vip4, 8080)], [busyBucket, idleBucket]);

        CollectionAssert.AreEqual(new[] { busyBucket }, scan.BusyBuckets.ToArray());
        Assert.AreEqual(1, scan.LiveFlowCount);
        Assert.IsEmpty(scan.UdpFlows);
    }

    [TestMethod]
    public void Scan_OnlyClosingTcp_BucketIdle()
    {
        var client = IPAddress.Parse("198.18.1.7");
        int bucket = Bucket4(client);

        var scan = scanner.Scan([Tcp(client, 40000, Modules.Vip4, 8080, live: false), Tcp(client, 40001, Modules.Vip4, 8080, live: false)], [bucket]);

        Assert.IsEmpty(scan.BusyBuckets);
        Assert.AreEqual(0, scan.LiveFlowCount);
    }

    [TestMethod]
    public void Scan_LiveFlowInBucketNotDraining_Ignored()
    {
        var client = IPAddress.Parse("198.18.1.7");
        int other = (Bucket4(client) + 1) % Module.Buckets;

        var scan = scanner.Scan([Tcp(client, 40000, Modules.Vip4, 8080), Udp(client, 40000, Modules.Vip4, 5353)], [other]);

        Assert.IsEmpty(scan.BusyBuckets);
        Assert.IsEmpty(scan.UdpFlows);
    }

    [TestMethod]
    public void Scan_FlowsToOtherAddressesOrPorts_NeverMakeABucketBusy()
    {
        var client = IPAddress.Parse("198.18.1.7");
        int bucket = Bucket4(client);

        var scan = scanner.Scan([Tcp(client, 40000, OtherAddress, 8080), Tcp(client, 40000, Modules.Vip4, 22), Udp(client, 40000, OtherAddress, 5353)], [bucket]);

        Assert.IsEmpty(scan.BusyBuckets);
    }

    [TestMethod]
    public void Scan_ClientIpPortRule_BusyBucketFollowsTheSourcePort()
    {
        var client = IPAddress.Parse("198.18.1.7");
        int port = Enumerable.Range(40000, 1000).First(p => Bucket4(client, p) != Bucket4(client));
        int portBucket = Bucket4(client, port);

        var scan = scanner.Scan([Tcp(client, port, Modules.Vip4, 8081)], [portBucket, Bucket4(client)]);

        CollectionAssert.AreEqual(new[] { portBucket }, scan.BusyBuckets.ToArray());
    }

    [TestMethod]
    public void Scan_UdpFlows_OnlyLiveOnesOfDrainingBucketsDistinctIpv4FirstSorted()
    {
        // Clients of draining buckets (v4 and v6), one of a bucket that is not draining.
        var clients = Enumerable.Range(1, 40).Select(i => IPAddress.Parse($"198.18.2.{i}")).ToList();
        var draining4 = clients.Take(3).ToList();
        var notDraining = clients.Skip(3).First(c => draining4.TrueForAll(d => Bucket4(d) != Bucket4(c)));
        var client6 = IPAddress.Parse("2001:db8::2:1");
        int bucket6 = Hasher.BucketOf(new ClientKey(client6), Affinity.ClientIp);
        int[] draining = [.. draining4.Select(c => Bucket4(c)), bucket6];
        Assert.IsFalse(draining.Contains(Bucket4(notDraining)), "test setup");
        TrackedFlow[] flows =
        [
            Udp(draining4[2], 7000, Modules.Vip4, 5353),
            Udp(client6, 7000, Modules.Vip6, 5353),
            Udp(draining4[0], 9000, Modules.Vip4, 5353),
            Udp(draining4[0], 8000, Modules.Vip4, 5353),
            Udp(draining4[0], 8000, Modules.Vip4, 5353), // the same client endpoint again (e.g. a second zone): listed once
            Udp(notDraining, 7000, Modules.Vip4, 5353),
            Tcp(draining4[1], 7001, Modules.Vip4, 8080),
        ];

        var scan = scanner.Scan(flows, draining);

        var sorted4 = new[] { (draining4[0], 8000), (draining4[0], 9000), (draining4[2], 7000) }
            .OrderBy(k => k.Item1.GetAddressBytes(), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)))
            .ThenBy(k => k.Item2)
            .Select(k => new FlowKey(k.Item1, k.Item2));
        CollectionAssert.AreEqual(sorted4.Append(new FlowKey(client6, 7000)).ToArray(), scan.UdpFlows.ToArray());
        CollectionAssert.AreEquivalent(draining.Distinct().ToArray(), scan.BusyBuckets.ToArray());
        Assert.AreEqual(6, scan.LiveFlowCount);
    }

    [TestMethod]
    public void Scan_NoDrainingBuckets_Empty()
    {
        var scan = scanner.Scan([Tcp(IPAddress.Parse("198.18.1.7"), 40000, Modules.Vip4, 8080)], []);

        Assert.IsEmpty(scan.BusyBuckets);
        Assert.IsEmpty(scan.UdpFlows);
    }

    [TestMethod]
    public void Scan_DrainingBucketOutOfRange_ThrowsArgumentOutOfRange()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => scanner.Scan([], [Module.Buckets]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => scanner.Scan([], [-1]));
    }

    [TestMethod]
    public void Scan_SameInputTwice_SameResult()
    {
        var flows = Enumerable.Range(0, 500)
            .Select(i => Udp(IPAddress.Parse($"198.18.{3 + (i / 250)}.{i % 250}"), 1000 + i, Modules.Vip4, 5353))
            .ToList();
        int[] draining = [.. Enumerable.Range(0, Module.Buckets / 2)];

        var first = scanner.Scan(flows, draining);
        var second = scanner.Scan(Enumerable.Reverse(flows), draining);

        CollectionAssert.AreEqual(first.UdpFlows.ToArray(), second.UdpFlows.ToArray());
        CollectionAssert.AreEqual(first.BusyBuckets.ToArray(), second.BusyBuckets.ToArray());
    }

    private static int Bucket4(IPAddress client, int? port = null) =>
        port is { } p
            ? Hasher.BucketOf(new ClientKey(client, (ushort)p), Affinity.ClientIpPort)
            : Hasher.BucketOf(new ClientKey(client), Affinity.ClientIp);

    private static TrackedFlow Tcp(IPAddress source, int sourcePort, IPAddress destination, int destinationPort, bool live = true) =>
        new(TransportProtocol.Tcp, source, sourcePort, destination, destinationPort, live);

    private static TrackedFlow Udp(IPAddress source, int sourcePort, IPAddress destination, int destinationPort) =>
        new(TransportProtocol.Udp, source, sourcePort, destination, destinationPort, Live: true);
}
