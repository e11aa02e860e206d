namespace Farm.Daemon.Tests.Hosting;

[TestClass]
public sealed class ServiceManagerReporterTests
{
    [TestMethod]
    [DataRow("10000000", null, 10_000.0)]
    [DataRow("10000000", "", 10_000.0)]
    [DataRow("2500000", "4242", 2_500.0)]
    public void WatchdogOf_ForThisProcess_Timeout(string usec, string? pid, double expectedMs)
    {
        Assert.AreEqual(TimeSpan.FromMilliseconds(expectedMs), ServiceManagerReporter.WatchdogOf(usec, pid, 4242));
    }

    [TestMethod]
    [DataRow(null, null)]
    [DataRow("", null)]
    [DataRow("0", null)]
    [DataRow("-5", null)]
    [DataRow("10s", null)]
    [DataRow("10000000", "4243")]
    [DataRow("10000000", "x")]
    public void WatchdogOf_AbsentInvalidOrForAnotherProcess_Null(string? usec, string? pid)
    {
        Assert.IsNull(ServiceManagerReporter.WatchdogOf(usec, pid, 4242));
    }
}
