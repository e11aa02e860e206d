using Microsoft.Extensions.Time.Testing;
using static Farm.DataPlane.Tests.Neighbors.NeighborFramesTests;

namespace Farm.DataPlane.Tests.Neighbors;

[TestClass]
public sealed class NeighborResponderTests : IDisposable
{
    private readonly FakeFrameChannel channel = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

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
    public void Dispose_Started_ReceiveThreadEndsBeforeTheChannelCloses()
    {
        var responder = NewResponder();
        responder.Start();

        responder.Dispose();

        Assert.IsTrue(channel.Disposed);
        Assert.IsFalse(channel.DisposedWhileReceiving, "the channel was closed while the receive thread was still inside Receive");
    }

    [TestMethod]
    public void Dispose_Started_NoAnnouncementAfterwards()
    {
        var responder = NewResponder();
        responder.Start();
        int sent = channel.Sent.Count;

        responder.Dispose();
        time.Advance(TimeSpan.FromSeconds(30));

        Assert.HasCount(sent, channel.Sent);
    }

    [TestMethod]
    public void Announce_Twice_SameFramesEachTime()
    {
        using var responder = NewResponder();

        responder.Announce();
        responder.Announce();

        byte[][] sent = [.. channel.Sent];
        Assert.HasCount(4, sent);
        CollectionAssert.AreEqual(sent[0], sent[2]);
        CollectionAssert.AreEqual(sent[1], sent[3]);
        CollectionAssert.AreEqual(VirtualMac.For(Vip4).GetAddressBytes(), sent.Take(2).Single(f => f[12] == 0x08)[22..28], "gratuitous ARP: sender hardware address is the vMAC");
    }

    [TestMethod]
    public void Handle_RandomFramesOfEveryLength_NeverThrowsAndAnswersNothing()
    {
        using var responder = NewResponder();
        var random = new Random(11);

        // Random bytes behind the EtherTypes the responder reads (ARP; IPv6 with ICMPv6 next), so the parsers get past
        // their first checks; none of these can be a valid request for a VIP.
        for (int i = 0; i < 5000; i++)
        {
            byte[] frame = new byte[random.Next(0, 120)];
            random.NextBytes(frame);
            if (frame.Length >= 14)
            {
                frame[12] = (byte)(i % 2 == 0 ? 0x08 : 0x86);
                frame[13] = (byte)(i % 2 == 0 ? 0x06 : 0xdd);
            }

            if (frame.Length >= 21 && i % 2 == 1)
            {
                frame[14] = (byte)(0x60 | (frame[14] & 0x0f));
                frame[20] = 58;
            }

            Assert.IsFalse(responder.Handle(frame), $"frame {i}: {Convert.ToHexString(frame)}");
        }

        Assert.IsEmpty(channel.Sent);
    }

    public void Dispose() => channel.Dispose();

    private NeighborResponder NewResponder() =>
        new(channel, NodeMac, [Vip4, Vip6], TimeSpan.FromSeconds(10), time, NullLogger.Instance);
}
