namespace Farm.Daemon.Tests.Envelopes;

[TestClass]
public sealed class ReplayGuardTests
{
    [TestMethod]
    public void Accept_ShuffledSeqsWithinWindow_EachAcceptedExactlyOnce()
    {
        var guard = new ReplayGuard();
        var random = new Random(7);
        var seqs = Enumerable.Range(1, 3000).Select(i => (ulong)i).ToArray();

        // Shuffle within blocks of 500 (never more than the window apart), as concurrent streams reorder.
        for (int block = 0; block < seqs.Length; block += 500)
        {
            random.Shuffle(seqs.AsSpan(block, Math.Min(500, seqs.Length - block)));
        }

        foreach (ulong seq in seqs)
        {
            Assert.IsNull(guard.Accept("n1", 5, seq), $"seq {seq} first time");
        }

        foreach (ulong seq in seqs.Where(s => s > 3000 - ReplayGuard.WindowSize))
        {
            Assert.AreEqual(RejectReason.Replayed, guard.Accept("n1", 5, seq), $"seq {seq} second time");
        }
    }

    [TestMethod]
    public void Accept_SeqBehindWindow_Replayed()
    {
        var guard = new ReplayGuard();
        Assert.IsNull(guard.Accept("n1", 1, 10));
        Assert.IsNull(guard.Accept("n1", 1, 10 + ReplayGuard.WindowSize));

        Assert.AreEqual(RejectReason.Replayed, guard.Accept("n1", 1, 10 + ReplayGuard.WindowSize - ReplayGuard.WindowSize), "exactly one window behind");
        Assert.IsNull(guard.Accept("n1", 1, 11 + ReplayGuard.WindowSize - ReplayGuard.WindowSize), "just inside the window, never seen");
    }

    [TestMethod]
    public void Accept_NewerIncarnation_StartsAFreshWindowAndRefusesTheOldRun()
    {
        var guard = new ReplayGuard();
        Assert.IsNull(guard.Accept("n1", 100, 5000));

        Assert.IsNull(guard.Accept("n1", 200, 1), "a restarted node counts from 1 again");
        Assert.AreEqual(200, guard.IncarnationOf("n1"));
        Assert.AreEqual(RejectReason.OldIncarnation, guard.Accept("n1", 100, 5001));
    }

    [TestMethod]
    public void Accept_MoreSendersThanTracked_ForgetsTheLeastRecentlyUsed()
    {
        var guard = new ReplayGuard(maxSenders: 2);
        guard.Accept("a", 1, 1);
        guard.Accept("b", 1, 1);
        guard.Accept("a", 1, 2);
        guard.Accept("c", 1, 1);

        Assert.AreEqual(1, guard.IncarnationOf("a"));
        Assert.AreEqual(0, guard.IncarnationOf("b"));
        Assert.AreEqual(1, guard.IncarnationOf("c"));
    }
}
