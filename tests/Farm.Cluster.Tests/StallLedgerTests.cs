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
}
