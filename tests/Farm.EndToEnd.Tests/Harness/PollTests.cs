namespace Farm.EndToEnd.Tests.Harness;

[TestClass]
public sealed class PollTests(TestContext testContext)
{
    [TestMethod]
    public async Task UntilAsync_ConditionHoldsOnThirdProbe_ReturnsThatValue()
    {
        int probes = 0;
        int value = await Poll.UntilAsync(() => Task.FromResult(++probes), v => v == 3, "three probes", TimeSpan.FromSeconds(5), testContext.CancellationToken, TimeSpan.FromMilliseconds(1));
        Assert.AreEqual(3, value);
    }

    [TestMethod]
    public async Task UntilAsync_ProbeFailsAnAssertion_SurfacesTheAssertionNotATimeout()
    {
        var thrown = await Assert.ThrowsExactlyAsync<AssertFailedException>(() => Poll.UntilAsync<int>(
            () => throw new AssertFailedException("the probe's own check"), _ => true, "never", TimeSpan.FromSeconds(5), testContext.CancellationToken));
        Assert.AreEqual("the probe's own check", thrown.Message);
    }

    [TestMethod]
    public async Task UntilAsync_ConditionNeverHolds_TimeoutNamesWhatTheLastValueAndTheLine()
    {
        var thrown = await Assert.ThrowsExactlyAsync<TimeoutException>(() => Poll.UntilAsync(
            () => Task.FromResult(7), v => v == 8, "eight", TimeSpan.FromMilliseconds(100), testContext.CancellationToken, TimeSpan.FromMilliseconds(10)));
        StringAssert.Contains(thrown.Message, "not eight within 0.1 s at PollTests.cs:");
        StringAssert.EndsWith(thrown.Message, "last: 7");
    }

    [TestMethod]
    public async Task WithTimeout_TaskNeverEnds_TimeoutNamesTheLine()
    {
        var never = new TaskCompletionSource<int>();
        var thrown = await Assert.ThrowsExactlyAsync<TimeoutException>(() => never.Task.WithTimeout(TimeSpan.FromMilliseconds(50)));
        StringAssert.StartsWith(thrown.Message, "timed out after 0.05 s at PollTests.cs:");
    }

    [TestMethod]
    public async Task WithTimeout_TaskThrowsItsOwnTimeout_SurfacesItUnchanged()
    {
        var thrown = await Assert.ThrowsExactlyAsync<TimeoutException>(() => Task.FromException<int>(new TimeoutException("the task's own")).WithTimeout());
        Assert.AreEqual("the task's own", thrown.Message);
    }

    [TestMethod]
    public async Task Deadline_AfterItsLimit_IsCancelled()
    {
        var token = Poll.Deadline(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAsync<OperationCanceledException>(() => Task.Delay(Timeout.InfiniteTimeSpan, token).WithTimeout(TimeSpan.FromSeconds(5)));
    }
}
