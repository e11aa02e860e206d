namespace Farm.Modules.Tests.State;

[TestClass]
public sealed class RecoveryWindowTests
{
    // The tests' one starting time (2026-01-01 00:00 UTC).
    private static readonly DateTimeOffset T0 = new ManualTimeProvider().GetUtcNow();

    [TestMethod]
    public void TryRecord_UpToMaxLoop_Succeeds_ThenFails()
    {
        var window = new RecoveryWindow(3, TimeSpan.FromHours(24));

        Assert.IsTrue(window.TryRecord(T0));
        Assert.IsTrue(window.TryRecord(T0.AddHours(1)));
        Assert.IsTrue(window.TryRecord(T0.AddHours(2)));
        Assert.IsFalse(window.TryRecord(T0.AddHours(3)));
        Assert.AreEqual(3, window.Count(T0.AddHours(3)));
    }

    [TestMethod]
    public void TryRecord_AfterTheOldestLeavesTheWindow_SucceedsAgain()
    {
        var window = new RecoveryWindow(1, TimeSpan.FromHours(24));
        window.TryRecord(T0);

        Assert.IsFalse(window.TryRecord(T0.AddHours(23)));
        Assert.IsTrue(window.TryRecord(T0.AddHours(24)));
    }

    [TestMethod]
    public void Reset_ForgetsEverything()
    {
        var window = new RecoveryWindow(1, TimeSpan.FromHours(24));
        window.TryRecord(T0);

        window.Reset();

        Assert.AreEqual(0, window.Count(T0));
        Assert.IsTrue(window.TryRecord(T0));
    }
}
