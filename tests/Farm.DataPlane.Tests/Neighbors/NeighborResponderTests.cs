using Farm.Testing.Time;
using Farm.DataPlane.Addressing;
using Farm.DataPlane.Neighbors;
using Farm.DataPlane.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using static Farm.DataPlane.Tests.Neighbors.NeighborFramesTests;

namespace Farm.DataPlane.Tests.Neighbors;

[TestClass]
public sealed class NeighborResponderTests : IDisposable
{
    private readonly FakeFrameChannel channel = new();
    private readonly ManualTimeProvider time = new();

    [TestMethod]
    public void Handle_ArpRequestForVip_RepliesWithVmac()
    {
        using var responder = NewResponder();

        Assert.IsTrue(responder.Handle(ArpRequestFrame(ClientMac, Client4, Vip4)));

        byte[] reply = channel.Sent.Single();
        CollectionAssert.AreEqual(VirtualMac.For(Vip4).GetAddressBytes(), reply[22..28]);
        CollectionAssert.AreEqual(NodeMac.GetAddressBytes(), reply[6..12]);
        Assert.AreEqual(1, responder.Replies);
    }

    [TestMethod]
    public void Handle_ArpRequestForOtherAddressOrPeersAnnouncement_NoReply()
    {
        using var responder = NewResponder();

        Assert.IsFalse(responder.Handle(ArpRequestFrame(ClientMac, Client4, Client4)));
        Assert.IsFalse(responder.Handle(ArpRequestFrame(VirtualMac.For(Vip4), Vip4, Vip4)));

        Assert.IsEmpty(channel.Sent);
    }

    [TestMethod]
    public void Handle_NeighborSolicitationForVip_AdvertisesVmacToTheSolicitor()
    {
        using var responder = NewResponder();

        Assert.IsTrue(responder.Handle(NeighborSolicitationFrame(ClientMac, Client6, Vip6, withOption: true)));

        byte[] na = channel.Sent.Single();
        Assert.IsTrue(NeighborFrames.Icmpv6Checksum(na.AsSpan(22, 16), na.AsSpan(38, 16), na.AsSpan(54)) == 0);
        CollectionAssert.AreEqual(ClientMac.GetAddressBytes(), na[0..6]);
        CollectionAssert.AreEqual(VirtualMac.For(Vip6).GetAddressBytes(), na[80..86]);
    }

    [TestMethod]
    public void Handle_DuplicateAddressDetectionProbe_NoReply()
    {
        using var responder = NewResponder();

        Assert.IsFalse(responder.Handle(NeighborSolicitationFrame(ClientMac, System.Net.IPAddress.IPv6Any, Vip6, withOption: false)));
    }

    [TestMethod]
    public void Start_AnnouncesEveryVipAtOnceAndAgainEachInterval()
    {
        using var responder = NewResponder();

        responder.Start();
        Assert.AreEqual(2, responder.Announcements);

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.AreEqual(2, responder.Announcements);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.AreEqual(4, responder.Announcements);
        Assert.IsTrue(channel.Sent.Any(f => f[0] == 0x33 && f[1] == 0x33), "unsolicited NA to all-nodes");
        Assert.IsTrue(channel.Sent.Any(f => f.Take(6).All(b => b == 0xff)), "gratuitous ARP broadcast");
    }

    [TestMethod]
    public async Task Start_FrameArrives_ReceiveThreadAnswersIt()
    {
        using var responder = NewResponder();
        responder.Start();
        int before = channel.Sent.Count;

        channel.Inject(ArpRequestFrame(ClientMac, Client4, Vip4));

        // The receive thread answers asynchronously; wait for it on the real clock with a bound.
        var deadline = TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 5;
        while (channel.Sent.Count == before && TimeProvider.System.GetTimestamp() < deadline)
        {
            await Task.Yield();
        }

        Assert.AreEqual(1, responder.Replies);
    }

    [TestMethod]
    public void Dispose_Started_StopsTheThreadAndClosesTheChannel()
    {
        var responder = NewResponder();
        responder.Start();

        responder.Dispose();

        Assert.IsTrue(channel.Disposed);
    }

    public void Dispose() => channel.Dispose();

    private NeighborResponder NewResponder() =>
        new(channel, NodeMac, [Vip4, Vip6], TimeSpan.FromSeconds(10), time, NullLogger.Instance);
}
