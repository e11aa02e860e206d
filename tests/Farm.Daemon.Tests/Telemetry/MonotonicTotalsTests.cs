namespace Farm.Daemon.Tests.Telemetry;

[TestClass]
public sealed class MonotonicTotalsTests
{
    [TestMethod]
    public void Total_RawCounterRestartsTwice_KeepsEverythingCounted()
    {
        var totals = new MonotonicTotals();

        Assert.AreEqual(10UL, totals.Total("a", 10));
        Assert.AreEqual(15UL, totals.Total("a", 15));
        Assert.AreEqual(17UL, totals.Total("a", 2));
        Assert.AreEqual(20UL, totals.Total("a", 5));
        Assert.AreEqual(21UL, totals.Total("a", 1));
        Assert.AreEqual(7UL, totals.Total("b", 7), "keys are independent");
    }
}
