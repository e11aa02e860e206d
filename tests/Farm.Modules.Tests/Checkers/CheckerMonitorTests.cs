using static Farm.Modules.Tests.TestSupport.TestModules;

namespace Farm.Modules.Tests.Checkers;

[TestClass]
public sealed class CheckerMonitorTests : IDisposable
{
    private readonly ManualTimeProvider time = new();
    private readonly TestLogSink logs = new();

    public void Dispose() => logs.Dispose();

    [TestMethod]
    public async Task CheckOnceAsync_CheckerIgnoresItsToken_StillFailsAtTheTimeout()
    {
        var config = Tcp("web-tcp") with { Timeout = TimeSpan.FromSeconds(3) };
        var never = new TaskCompletionSource<CheckResult>();

        var check = CheckerMonitor.CheckOnceAsync(config, new StubbornChecker(never.Task), time, Poll.Deadline());
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(3), Poll.Deadline());
        time.Advance(TimeSpan.FromSeconds(3));

        Assert.AreEqual(new CheckResult(false, "no answer within 3s"), await check.WithTimeout());
    }

    [TestMethod]
    public async Task RunAsync_ChecksAtOnceThenEveryInterval_AndSurvivesAThrowingChecker()
    {
        var config = Tcp("web-tcp") with { Interval = TimeSpan.FromSeconds(5) };
        var reports = new ConcurrentQueue<CheckResult>();
        var checker = new ThrowingOnceChecker();
        using var cts = new CancellationTokenSource();

        var monitor = Task.Run(() => CheckerMonitor.RunAsync("web", config, checker, reports.Enqueue, time, logs.CreateLogger<CheckerMonitorTests>(), cts.Token));
        await time.WaitForTimerAsync(config.Interval, Poll.Deadline());
        time.Advance(config.Interval);
        await time.WaitForTimerAsync(config.Interval, Poll.Deadline());
        await cts.CancelAsync();
        await monitor.WithTimeout();

        CollectionAssert.AreEqual(new[] { new CheckResult(false, "check failed: boom"), new CheckResult(true, "ok") }, reports.ToArray());
        Assert.IsTrue(logs.Messages.Any(m => m.Contains("threw", StringComparison.Ordinal)));
    }

    private sealed class StubbornChecker(Task<CheckResult> result) : IChecker
    {
        public Task<CheckResult> CheckAsync(CancellationToken cancellationToken) => result;
    }

    private sealed class ThrowingOnceChecker : IChecker
    {
        private int calls;

        public Task<CheckResult> CheckAsync(CancellationToken cancellationToken) =>
            Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("boom") : Task.FromResult(CheckResult.Pass("ok"));
    }
}
