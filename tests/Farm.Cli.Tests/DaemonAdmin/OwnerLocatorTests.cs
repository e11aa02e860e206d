using System.Collections.Immutable;
using Farm.Cluster.Membership;
using Farm.Core.Ownership;
using Farm.Core.Buckets;
using Farm.Daemon.Admin;
using Wire = Farm.Protocol.V1;

namespace Farm.Cli.Tests.DaemonAdmin;

/// <summary>farmd's who-owns computation (src/Farm.Daemon/Admin/OwnerLocator) against Farm.Core's hasher and the view's table.</summary>
[TestClass]
public sealed class OwnerLocatorTests
{
    private static readonly ModuleConfig Web = Module("web", 1024, ModuleConfig.DefaultSeed,
        Rule(TransportProtocol.Tcp, 80, 80, Affinity.ClientIp),
        Rule(TransportProtocol.Tcp, 443, 443, Affinity.ClientIp),
        Rule(TransportProtocol.Udp, 5000, 5100, Affinity.ClientIpPort));

    private static readonly ModuleConfig Api = Module("api", 256, 0x12345678, Rule(TransportProtocol.Tcp, 8080, 8080, Affinity.ClientIpPort));

    private static readonly ModuleConfig[] Modules = [Api, Web];

    [TestMethod]
    public void Answer_ManyRandomClientsBothAffinities_MatchBucketHasherAndTableOwner()
    {
        var view = View(5, "n1", "n2", "n3");
        var random = new Random(20261122);
        for (int i = 0; i < 2000; i++)
        {
            var address = RandomAddress(random);
            ushort port = (ushort)random.Next(1, 65536);
            var answer = OwnerLocator.Answer(Query(address.ToString(), port), Modules, "n2", view, (_, _) => BucketState.None);

            Assert.AreEqual(3, answer.Owners.Count, "api, web client_ip, web client_ip_port");
            foreach (var owner in answer.Owners)
            {
                var module = Modules.Single(m => m.Name == owner.Module);
                var affinity = owner.Affinity == "client_ip_port" ? Affinity.ClientIpPort : Affinity.ClientIp;
                int expected = new BucketHasher(module.Buckets, module.Seed)
                    .BucketOf(new ClientKey(address, affinity == Affinity.ClientIpPort ? port : null), affinity);
                Assert.AreEqual(expected, owner.Bucket, $"{address}:{port} {owner.Module} {owner.Affinity}");
                Assert.AreEqual(view.Tables[module.Name].OwnerOf(expected), owner.Owner);
                Assert.AreEqual((module.Buckets, module.Seed, ""), (owner.BucketCount, owner.Seed, owner.Error));
            }
        }
    }

    [TestMethod]
    public void Answer_RulesOfOneAffinity_ShareOneEntryAndIgnoreTheClientPort()
    {
        var view = View(2, "n1", "n2");
        var withPort = OwnerLocator.Answer(Query("10.1.2.3", 40000, module: "web"), Modules, "n1", view, (_, _) => BucketState.None);
        var otherPort = OwnerLocator.Answer(Query("10.1.2.3", 40001, module: "web"), Modules, "n1", view, (_, _) => BucketState.None);

        var ip = withPort.Owners.Single(o => o.Affinity == "client_ip");
        CollectionAssert.AreEqual(new[] { "tcp 80", "tcp 443" }, ip.Rules.ToArray());
        Assert.AreEqual(ip.Bucket, otherPort.Owners.Single(o => o.Affinity == "client_ip").Bucket, "client_ip hashes the address only");
        Assert.AreEqual("10.1.2.3:40000", withPort.Client);
        Assert.AreEqual((2L, "n1", "n1"), (withPort.InstalledEpoch, withPort.Coordinator, withPort.Node));
    }

    [TestMethod]
    public void Answer_ClientIpPortRuleWithoutClientPort_EntryExplainsAndHasNoBucket()
    {
        var answer = OwnerLocator.Answer(Query("10.1.2.3", 0, module: "web"), Modules, "n1", View(1, "n1"), (_, _) => BucketState.None);

        var portEntry = answer.Owners.Single(o => o.Affinity == "client_ip_port");
        Assert.AreEqual(-1, portEntry.Bucket);
        Assert.AreEqual("", portEntry.Owner);
        StringAssert.Contains(portEntry.Error, "ADDRESS:PORT");
        Assert.IsTrue(answer.Owners.Single(o => o.Affinity == "client_ip").Bucket >= 0, "the client_ip rules are still answered");
    }

    [TestMethod]
    public void Answer_ServicePortAndProtocolFilters_SelectOnlyTheCoveringRule()
    {
        var view = View(1, "n1", "n2");
        var udp = OwnerLocator.Answer(Query("192.0.2.7", 1234, servicePort: 5050), Modules, "n1", view, (_, _) => BucketState.None);
        var entry = udp.Owners.Single();
        Assert.AreEqual(("web", "udp 5000-5100", "client_ip_port"), (entry.Module, entry.Rules.Single(), entry.Affinity));

        var tcp = OwnerLocator.Answer(Query("192.0.2.7", 1234, protocol: "TCP"), Modules, "n1", view, (_, _) => BucketState.None);
        CollectionAssert.AreEquivalent(new[] { "api", "web" }, tcp.Owners.Select(o => o.Module).ToArray());
        Assert.IsFalse(tcp.Owners.SelectMany(o => o.Rules).Any(r => r.StartsWith("udp", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void Answer_OwnerIsTheAnsweringNode_ReportsItsStateOtherwiseUnknown()
    {
        var view = View(3, "n1", "n2", "n3");
        var answer = OwnerLocator.Answer(Query("10.0.0.1", 0, module: "web", protocol: "tcp"), Modules, "n2", view, (_, _) => BucketState.Draining);
        var owner = answer.Owners.Single();
        Assert.AreEqual(Wire.BucketState.Draining, owner.LocalState);
        Assert.AreEqual(owner.Owner == "n2" ? Wire.BucketState.Draining : Wire.BucketState.Unknown, owner.OwnerState);

        // Ask as the owner itself: its state is then known.
        var asOwner = OwnerLocator.Answer(Query("10.0.0.1", 0, module: "web", protocol: "tcp"), Modules, owner.Owner, view, (_, _) => BucketState.Incoming);
        Assert.AreEqual(Wire.BucketState.Incoming, asOwner.Owners.Single().OwnerState);
    }

    [TestMethod]
    public void Answer_NoInstalledView_NobodyOwnsAndEpochIsZero()
    {
        var answer = OwnerLocator.Answer(Query("10.0.0.1", 9), Modules, "n1", installed: null, (_, _) => BucketState.None);
        Assert.AreEqual(0, answer.InstalledEpoch);
        Assert.IsTrue(answer.Owners.All(o => o.Owner == "" && o.Bucket >= 0));
    }

    [TestMethod]
    public void Answer_IPv4MappedIPv6Client_HashesAsIPv4()
    {
        var view = View(1, "n1", "n2", "n3");
        var mapped = OwnerLocator.Answer(Query("::ffff:10.9.8.7", 0, module: "web", protocol: "tcp"), Modules, "n1", view, (_, _) => BucketState.None);
        var plain = OwnerLocator.Answer(Query("10.9.8.7", 0, module: "web", protocol: "tcp"), Modules, "n1", view, (_, _) => BucketState.None);
        Assert.AreEqual(plain.Owners.Single().Bucket, mapped.Owners.Single().Bucket);
        Assert.AreEqual("10.9.8.7", mapped.Client);
    }

    [TestMethod]
    [DataRow("10", "", "", 0u, "not an IPv4 or IPv6 address")]
    [DataRow("10.0.0.1:80", "", "", 0u, "not an IPv4 or IPv6 address")]
    [DataRow("fe80::1%eth0", "", "", 0u, "not an IPv4 or IPv6 address")]
    [DataRow("10.0.0.1", "db", "", 0u, "unknown module 'db' (modules: api, web)")]
    [DataRow("10.0.0.1", "", "sctp", 0u, "protocol 'sctp' is neither tcp nor udp")]
    [DataRow("10.0.0.1", "api", "", 80u, "module 'api' has no rule for tcp or udp port 80 (rules: tcp 8080)")]
    [DataRow("10.0.0.1", "", "udp", 80u, "no module has a rule for udp port 80")]
    [DataRow("10.0.0.1", "", "", 70000u, "port 70000 is not a port")]
    public void Answer_BadQuery_InvalidArgumentSaysWhy(string address, string module, string protocol, uint servicePort, string expected)
    {
        var query = new Wire.WhoOwnsQuery { ClientAddress = address, Module = module, Protocol = protocol, ServicePort = servicePort };
        var error = Assert.ThrowsExactly<RpcException>(() => OwnerLocator.Answer(query, Modules, "n1", View(1, "n1"), (_, _) => BucketState.None));
        Assert.AreEqual(StatusCode.InvalidArgument, error.StatusCode);
        StringAssert.Contains(error.Status.Detail, expected);
    }

    [TestMethod]
    public void Answer_NodeWithoutModules_InvalidArgumentPointsToModulesOption()
    {
        var error = Assert.ThrowsExactly<RpcException>(() => OwnerLocator.Answer(Query("10.0.0.1", 0), [], "n1", null, (_, _) => BucketState.None));
        StringAssert.Contains(error.Status.Detail, "--modules");
    }

    internal static ClusterView View(long epoch, params string[] nodes)
    {
        var members = nodes.Select(n => new MemberInfo(n, 1, 100, 0, false, ["api", "web"])).ToList();
        var specs = Modules.Select(m => new ModuleSpec(m.Name, m.Buckets, BucketMode.Balance, false)).ToList();
        return new ClusterView(new ViewId(epoch, nodes[0], 1), members, ClusterView.ComputeTables(null, members, specs, epoch));
    }

    private static Wire.WhoOwnsQuery Query(string address, int clientPort, string module = "", uint servicePort = 0, string protocol = "") =>
        new() { ClientAddress = address, ClientPort = (uint)clientPort, Module = module, ServicePort = servicePort, Protocol = protocol };

    private static IPAddress RandomAddress(Random random)
    {
        byte[] bytes = new byte[random.Next(2) == 0 ? 4 : 16];
        random.NextBytes(bytes);
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    private static ModuleConfig Module(string name, int buckets, uint seed, params PortRuleConfig[] rules) => new()
    {
        Name = name,
        Vips = [IPAddress.Parse("198.18.100.1")],
        Interface = "eth0",
        Buckets = buckets,
        Seed = seed,
        Rules = rules,
    };

    private static PortRuleConfig Rule(TransportProtocol protocol, int first, int last, Affinity affinity) =>
        new() { Protocol = protocol, FirstPort = first, LastPort = last, Affinity = affinity };
}
