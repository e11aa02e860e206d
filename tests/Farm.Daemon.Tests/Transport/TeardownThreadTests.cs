using Farm.Daemon.Transport;
using Farm.Testing.Logging;

namespace Farm.Daemon.Tests.Transport;

[TestClass]
public sealed class TeardownThreadTests
{
    [TestMethod]
    public void Post_SeveralItems_RunInOrderOnTheTeardownThreadNotOnThePool()
    {
        using var logs = new TestLogSink();
        var ran = new List<(int Item, string? Thread, bool Pool)>();
        var teardown = new TeardownThread(logs.CreateLogger("teardown"));
        for (int i = 0; i < 3; i++)
        {
            teardown.Post(static box => box.List.Add((box.Item, Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread)), new Box(ran, i));
        }

        teardown.Dispose(); // lets what was posted finish

        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, ran.Select(r => r.Item).ToArray());
        Assert.IsTrue(ran.All(r => r.Thread == "farm-teardown" && !r.Pool), string.Join(", ", ran));
        logs.AssertNoWarnings();
    }

    [TestMethod]
    public void Post_ItemThrows_IsLoggedAndTheNextItemStillRuns()
    {
        using var logs = new TestLogSink();
        var ran = new List<(int Item, string? Thread, bool Pool)>();
        var teardown = new TeardownThread(logs.CreateLogger("teardown"));

        teardown.Post(static _ => throw new InvalidOperationException("socket already gone"), new Box(ran, 0));
        teardown.Post(static box => box.List.Add((box.Item, Thread.CurrentThread.Name, false)), new Box(ran, 1));
        teardown.Dispose();

        Assert.AreEqual(1, ran.Single().Item);
        var problem = logs.Problems().Single();
        Assert.AreEqual(312, problem.Id.Id);
        Assert.IsInstanceOfType<InvalidOperationException>(problem.Exception);
    }

    [TestMethod]
    public void Post_AfterDispose_RunsOnTheCaller()
    {
        using var logs = new TestLogSink();
        var ran = new List<(int Item, string? Thread, bool Pool)>();
        var teardown = new TeardownThread(logs.CreateLogger("teardown"));
        teardown.Dispose();

        teardown.Post(static box => box.List.Add((box.Item, Thread.CurrentThread.Name, false)), new Box(ran, 7));

        Assert.AreEqual((7, Thread.CurrentThread.Name, false), ran.Single());
    }

    private sealed record Box(List<(int Item, string? Thread, bool Pool)> List, int Item);
}
