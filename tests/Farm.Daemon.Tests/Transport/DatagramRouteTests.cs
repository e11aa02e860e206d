using Farm.Cluster.Membership;
using Farm.Daemon.Transport;
using Microsoft.Extensions.Time.Testing;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Transport;

[TestClass]
public sealed class DatagramRouteTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(120);
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(1);
    private const long Run = 7;

    [TestMethod]
    public void Choose_NewRoute_StreamWithOneProbePerProbeInterval()
    {
        var (time, route) = Create();

        Assert.AreEqual(DatagramChoice.StreamAndProbe, route.Choose(Run, out _));
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.AreEqual(DatagramChoice.Stream, route.Choose(Run, out _), "one probe per interval, not one per heartbeat");
        time.Advance(Every);
        Assert.AreEqual(DatagramChoice.StreamAndProbe, route.Choose(Run, out _));
        Assert.IsFalse(route.OnDatagrams);
    }

    [TestMethod]
    public void Answered_ProbeAnswered_EveryHeartbeatAsADatagram()
    {
        var (time, route) = Create();
        route.Choose(Run, out _);
        var probe = Send(route, seq: 1);

        Assert.IsTrue(route.Answered(probe));

        Assert.IsTrue(route.OnDatagrams);
        Assert.AreEqual(1, route.Confirmations);
        for (int i = 0; i < 30; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            Assert.AreEqual(DatagramChoice.Datagram, route.Choose(Run, out _), "none on the stream: it would reach the peer after later ones");
        }
    }

    [TestMethod]
    public void Choose_DatagramUnansweredBeyondPatience_FallsBackAndProbesAgainAfterProbeInterval()
    {
        var (time, route) = Create();
        Confirm(route, seq: 1);
        Send(route, seq: 2);

        time.Advance(Patience);
        Assert.AreEqual(DatagramChoice.Datagram, route.Choose(Run, out bool early));
        Assert.IsFalse(early, "an answer may take the whole patience");

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.AreEqual(DatagramChoice.Stream, route.Choose(Run, out bool fellBack));
        Assert.IsTrue(fellBack);
        Assert.AreEqual(1, route.Fallbacks);
        Assert.IsFalse(route.OnDatagrams);

        time.Advance(Every - TimeSpan.FromMilliseconds(1));
        Assert.AreEqual(DatagramChoice.Stream, route.Choose(Run, out _), "no probe before a probe interval since the fallback");
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.AreEqual(DatagramChoice.StreamAndProbe, route.Choose(Run, out _));
    }

    [TestMethod]
    public void Answered_LaterDatagramAnswered_EarlierOnesWaitNoLonger()
    {
        var (time, route) = Create();
        Confirm(route, seq: 1);
        var lost = Send(route, seq: 2);
        var later = Send(route, seq: 3);

        Assert.IsTrue(route.Answered(later));
        time.Advance(Patience * 2);

        Assert.AreEqual(DatagramChoice.Datagram, route.Choose(Run, out bool fellBack));
        Assert.IsFalse(fellBack, "the answer to a later datagram proves the path: the lost answer is no reason to fall back");
        Assert.IsNull(route.Find(lost.Sealed.Seq));
        Assert.IsFalse(route.Answered(later), "an answer counts once");
    }

    [TestMethod]
    public void Choose_PeerRunsANewProcess_BackToTheStreamAndProbesAtOnce()
    {
        var (time, route) = Create();
        Confirm(route, seq: 1);
        time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.AreEqual(DatagramChoice.StreamAndProbe, route.Choose(Run + 1, out bool fellBack));

        Assert.IsFalse(fellBack, "a new run is no loss of datagrams");
        Assert.IsFalse(route.OnDatagrams, "the new process has to prove it serves datagrams");
    }

    private static (FakeTimeProvider Time, DatagramRoute Route) Create()
    {
        var time = new FakeTimeProvider();
        return (time, new DatagramRoute(time, Patience, Every));
    }

    private static void Confirm(DatagramRoute route, ulong seq)
    {
        route.Choose(Run, out _);
        Assert.IsTrue(route.Answered(Send(route, seq)));
    }

    private static DatagramRoute.Waiting Send(DatagramRoute route, ulong seq)
    {
        var heartbeat = new HeartbeatRequest(new MemberInfo("n1", 1, 1, 0, false, []), "hash", null, null);
        route.Sent(new OutboundRequest((long)seq, "n2", 0, heartbeat), new Wire.Envelope { Seq = seq, RecipientIncarnation = Run });
        return route.Find(seq) ?? throw new AssertFailedException("the datagram waits for its answer");
    }
}
