using Farm.Daemon.Heartbeat;
using Farm.Testing.Waiting;

namespace Farm.Daemon.Tests.Heartbeat;

[TestClass]
public sealed class ThreadPoolReaderProbeTests
{
    public TestContext TestContext { get; set; } = null!;

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [TestMethod]
    public void Probe_NotStarted_QueuesNothing()
    {
        var queued = new List<Action>();
        var probe = new ThreadPoolReaderProbe(() => Ms(0), queued.Add);

        Assert.AreEqual(new ReaderProbeResult(null, null, null), probe.Probe(Ms(10), start: false));
        Assert.IsEmpty(queued);
    }

    [TestMethod]
    public void Probe_QueueDoesNotRun_WaitsSinceItWasQueuedAndIsQueuedOnce()
    {
        var queued = new List<Action>();
        var probe = new ThreadPoolReaderProbe(() => Ms(0), queued.Add);

        probe.Probe(Ms(100), start: true);
        var later = probe.Probe(Ms(400), start: true);

        Assert.AreEqual(new ReaderProbeResult(Ms(100), null, null), later);
        Assert.HasCount(1, queued);
    }

    [TestMethod]
    public void Probe_ItRan_ReportsWhenItWasQueuedAndRanThenQueuesTheNext()
    {
        var clock = Ms(0);
        var queued = new List<Action>();
        var probe = new ThreadPoolReaderProbe(() => clock, queued.Add);
        probe.Probe(Ms(100), start: true);
        clock = Ms(700);
        queued[0]();

        var next = probe.Probe(Ms(720), start: true);

        Assert.AreEqual(new ReaderProbeResult(Ms(720), Ms(100), Ms(700)), next);
        Assert.HasCount(2, queued);
        clock = Ms(725);
        queued[1]();
        Assert.AreEqual(new ReaderProbeResult(null, Ms(720), Ms(725)), probe.Probe(Ms(730), start: false));
    }

    [TestMethod]
    public async Task Probe_RealThreadPool_RunsAndReportsIt()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var probe = new ThreadPoolReaderProbe(() => clock.Elapsed);
        var queuedAt = clock.Elapsed;
        probe.Probe(queuedAt, start: true);

        var result = await Poll.UntilAsync(
            () => Task.FromResult(probe.Probe(clock.Elapsed, start: false)), r => r.LastRan is not null, "the probe ran on the thread pool", Poll.DefaultTimeout, TestContext.CancellationToken);

        Assert.AreEqual(queuedAt, result.LastQueued);
        Assert.IsGreaterThanOrEqualTo(queuedAt, result.LastRan!.Value);
        Assert.IsNull(result.WaitingSince);
    }
}
