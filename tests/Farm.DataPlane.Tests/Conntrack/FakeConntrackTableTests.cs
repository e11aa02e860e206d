namespace Farm.DataPlane.Tests.Conntrack;

[TestClass]
public sealed class FakeConntrackTableTests
{
    [TestMethod]
    public void Dump_FlowsHeld_ReturnsThemAndCountsTheCall()
    {
        var table = new FakeConntrackTable([Tcp(1, live: true), Udp(2)]);

        var flows = table.Dump();

        CollectionAssert.AreEqual(new[] { Tcp(1, live: true), Udp(2) }, flows.ToArray());
        Assert.AreEqual(1, table.DumpCount);
        Assert.AreEqual(0, table.LookupCount);
    }

    [TestMethod]
    public void Lookup_HeldAndUnheldFlows_HeldEntryWithItsOwnLivenessOrNullInRequestOrder()
    {
        var table = new FakeConntrackTable([Tcp(1, live: false), Udp(2)]);

        var found = table.Lookup([Udp(3), Tcp(1, live: true), Udp(2)]);

        CollectionAssert.AreEqual(new TrackedFlow?[] { null, Tcp(1, live: false), Udp(2) }, found.ToArray());
        Assert.AreEqual(1, table.LookupCount);
        Assert.AreEqual(3, table.LookedUpFlowCount);
        Assert.AreEqual(0, table.DumpCount);
    }

    [TestMethod]
    public void Lookup_SameTupleOtherProtocol_NotFound()
    {
        var table = new FakeConntrackTable([Tcp(1, live: true)]);

        var found = table.Lookup([Udp(1) with { DestinationPort = 8080 }]);

        Assert.IsNull(found.Single());
    }

    [TestMethod]
    public void Lookup_Ipv4MappedAddresses_MatchTheIpv4Entry()
    {
        var table = new FakeConntrackTable([Tcp(1, live: true)]);

        var found = table.Lookup([Tcp(1, live: true) with { Source = Client4.MapToIPv6(), Destination = Vip4.MapToIPv6() }]);

        Assert.AreEqual(Tcp(1, live: true), found.Single());
    }

    [TestMethod]
    public void Flows_Replaced_LaterCallsAnswerFromTheNewList()
    {
        var table = new FakeConntrackTable([Tcp(1, live: true)]);

        table.Flows = [Tcp(1, live: false)];

        Assert.AreEqual(Tcp(1, live: false), table.Lookup([Tcp(1, live: true)]).Single());
        CollectionAssert.AreEqual(new[] { Tcp(1, live: false) }, table.Dump().ToArray());
    }

    [TestMethod]
    public void Failure_Set_DumpAndLookupThrowItUntilCleared()
    {
        var table = new FakeConntrackTable([Udp(2)]);
        var failure = new IOException("refused");

        table.Failure = failure;
        var dump = Assert.ThrowsExactly<IOException>(() => table.Dump());
        var lookup = Assert.ThrowsExactly<IOException>(() => table.Lookup([Udp(2)]));
        table.Failure = null;

        Assert.AreSame(failure, dump);
        Assert.AreSame(failure, lookup);
        Assert.AreEqual(Udp(2), table.Lookup([Udp(2)]).Single());
        Assert.AreEqual(1, table.DumpCount);
        Assert.AreEqual(2, table.LookupCount);
    }

    [TestMethod]
    public void Lookup_UnfitFlow_ThrowsArgumentAsTheRealTableDoes()
    {
        var table = new FakeConntrackTable();

        var e = Assert.ThrowsExactly<ArgumentException>(() => table.Lookup([Udp(1), Udp(2) with { SourcePort = 70000 }]));

        StringAssert.Contains(e.Message, "Flow 1");
    }

    private static TrackedFlow Tcp(int sourcePort, bool live) => new(TransportProtocol.Tcp, Client4, sourcePort, Vip4, 8080, live);

    private static TrackedFlow Udp(int sourcePort) => new(TransportProtocol.Udp, Client4, sourcePort, Vip4, 5353, Live: true);
}
