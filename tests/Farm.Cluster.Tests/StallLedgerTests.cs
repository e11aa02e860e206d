using Farm.Cluster.Membership;

namespace Farm.Cluster.Tests;

[TestClass]
public sealed class StallLedgerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Detection = TimeSpan.FromMilliseconds(300);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [TestMethod]
    public void Silence_CallsEveryInterval_IsTheWallTime()
    {
        var ledger = new StallLedger(Interval, Detection);
        for (int t = 0; t <= 1000; t += 50)
        {
            ledger.NoteRunning(Ms(t));
        }

        Assert.AreEqual(Ms(400), ledger.Silence(Ms(600), Ms(1000)));
        Assert.IsFalse(ledger.Within(Ms(600), Ms(1000), Detection));
        Assert.AreEqual(Ms(900), ledger.Deadline(Ms(600), Ms(1000), Detection));
    }

    [TestMethod]
    public void Silence_StallAfterThePeerWasHeard_LeavesTheStallOut()
    {
        // Heard at 590 ms; this node ran at 600 ms, then not until 1000 ms: a stall from 650 to 1000 ms.
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteRunning(Ms(600));
        ledger.NoteRunning(Ms(1000));

        Assert.AreEqual(Ms(60), ledger.Silence(Ms(590), Ms(1000)));
        Assert.IsTrue(ledger.Within(Ms(590), Ms(1000), Detection));
        Assert.AreEqual(Ms(590 + 300 + 350), ledger.Deadline(Ms(590), Ms(1000), Detection));
    }

    [TestMethod]
    public void Silence_TicksHeldUpWhileMessagesWereRead_NoStall()
    {
        // The heartbeat thread waited 400 ms (the data plane's lock) while the transport read a peer's heartbeats: the
        // process ran, so a peer silent all along is as silent as the wall clock says.
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteRunning(Ms(600));
        for (int t = 625; t < 1000; t += 50)
        {
            ledger.NoteRunning(Ms(t)); // another peer's heartbeats
        }

        ledger.NoteRunning(Ms(1000));

        Assert.AreEqual(Ms(410), ledger.Silence(Ms(590), Ms(1000)));
    }

    [TestMethod]
    public void Silence_GapOfTwoIntervals_IsNoStall()
    {
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteRunning(Ms(0));
        ledger.NoteRunning(Ms(100));

        Assert.AreEqual(Ms(100), ledger.Silence(Ms(0), Ms(100)));
    }

    [TestMethod]
    public void Silence_PeerHeardAfterTheStall_NoCredit()
    {
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteRunning(Ms(0));
        ledger.NoteRunning(Ms(2000));

        Assert.AreEqual(Ms(100), ledger.Silence(Ms(2000), Ms(2100)));
    }

    [TestMethod]
    public void NoteRunning_StallLongAgo_Forgotten()
    {
        // Eight detection timeouts after a stall ended, it no longer counts (kept: at most 64, and only that long).
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteRunning(Ms(0));
        ledger.NoteRunning(Ms(1000));
        for (int t = 1050; t <= 1000 + 2450; t += 50)
        {
            ledger.NoteRunning(Ms(t));
        }

        Assert.AreEqual(Ms(3450), ledger.Silence(Ms(0), Ms(3450)));
    }

    [TestMethod]
    public void Within_ReadersProbeWaitsWhileTheHeartbeatThreadTicks_PeerStillWithin()
    {
        // The heartbeat thread ticks every interval, the readers stopped after the peer's last heartbeat at 100 ms: a probe
        // queued at 150 ms still waits at 700 ms. The silence counted is 50 ms; without the probe, 600 ms.
        var ledger = new StallLedger(Interval, Detection);
        var unprobed = new StallLedger(Interval, Detection);
        for (int t = 0; t <= 700; t += 50)
        {
            ledger.NoteRunning(Ms(t));
            unprobed.NoteRunning(Ms(t));
        }

        ledger.NoteReaders(Ms(150), null, null);

        Assert.AreEqual(Ms(50), ledger.Silence(Ms(100), Ms(700)));
        Assert.IsTrue(ledger.Within(Ms(100), Ms(700), Detection));
        Assert.IsFalse(unprobed.Within(Ms(100), Ms(700), Detection));
    }

    [TestMethod]
    public void NoteReaders_ProbeRanLate_IsAStallFromItsQueueingToItsRun()
    {
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteRunning(Ms(0));
        ledger.NoteReaders(null, Ms(150), Ms(650));
        ledger.NoteReaders(null, Ms(150), Ms(650)); // reported again at every call until the next probe runs: once

        Assert.AreEqual(Ms(200), ledger.Silence(Ms(100), Ms(800)));
    }

    [TestMethod]
    public void NoteReaders_ProbeRanWithinAnInterval_IsNoStallButOneThatStillWaitsIsUntilNow()
    {
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteReaders(null, Ms(150), Ms(190));
        Assert.AreEqual(Ms(700), ledger.Silence(Ms(100), Ms(800)));

        ledger.NoteReaders(Ms(780), Ms(150), Ms(190)); // the next one waits: nothing proves the readers ran since 780 ms
        Assert.AreEqual(Ms(680), ledger.Silence(Ms(100), Ms(800)));
    }

    [TestMethod]
    public void Silence_ProcessStallAndReadersStallOverlap_EachMomentTakenOffOnce()
    {
        // The process stalled from 250 to 600 ms (no tick from 200 to 600), the readers' probe waited from 150 to 500 ms.
        var ledger = new StallLedger(Interval, Detection);
        ledger.NoteRunning(Ms(200));
        ledger.NoteRunning(Ms(600));
        ledger.NoteReaders(null, Ms(150), Ms(500));

        Assert.AreEqual(Ms(250), ledger.Silence(Ms(100), Ms(800)));
    }
}
