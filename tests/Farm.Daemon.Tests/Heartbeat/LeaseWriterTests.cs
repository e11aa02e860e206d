using System.Collections.Concurrent;
using Farm.Core.Ownership;
using Farm.Testing.Waiting;

namespace Farm.Daemon.Tests.Heartbeat;

[TestClass]
public sealed class LeaseWriterTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Post_SinkHeldBehindAnApply_ReturnsAtOnceAndTheNextWriteCarriesTheNewestExpiry()
    {
        var sink = new BlockingSink();
        using var writer = new LeaseWriter(() => TimeSpan.Zero, [sink], NullLogger.Instance);
        writer.Start(null, MembershipHost.HeartbeatPriority);

        writer.Post(TimeSpan.FromMilliseconds(150));
        await Poll.UntilAsync(() => Task.FromResult(sink.Entered.CurrentCount), n => n > 0, "the first write reached the sink", Poll.DefaultTimeout, TestContext.CancellationToken);

        // The sink is held (as the data plane's lock behind an apply): the heartbeat thread's posts must not wait for it.
        writer.Post(TimeSpan.FromMilliseconds(200));
        writer.Post(TimeSpan.FromMilliseconds(300));
        Assert.HasCount(1, sink.Durations, "nothing written while the sink is held");

        sink.Release.Set();
        await Poll.UntilAsync(() => Task.FromResult(sink.Durations.Count), n => n >= 2, "the next write", Poll.DefaultTimeout, TestContext.CancellationToken);
        writer.Stop();

        CollectionAssert.AreEqual(new[] { TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(300) }, sink.Durations.ToArray(), "the expiry of 200 ms was superseded before it could be written");
    }

    [TestMethod]
    public void Post_NotStarted_WritesOnTheCallersThreadWhatRemainsOfTheLease()
    {
        var sink = new BlockingSink(held: false);
        using var writer = new LeaseWriter(() => TimeSpan.FromMilliseconds(40), [sink], NullLogger.Instance);

        writer.Post(TimeSpan.FromMilliseconds(190));

        CollectionAssert.AreEqual(new[] { TimeSpan.FromMilliseconds(150) }, sink.Durations.ToArray());
    }

    [TestMethod]
    public void Post_ExpiryAlreadyPassed_WritesNothing()
    {
        var sink = new BlockingSink(held: false);
        using var writer = new LeaseWriter(() => TimeSpan.FromMilliseconds(200), [sink], NullLogger.Instance);

        writer.Post(TimeSpan.FromMilliseconds(150));

        Assert.IsEmpty(sink.Durations, "a lease that ran out before it was written stays out");
    }

    [TestMethod]
    public async Task Start_WithThreadPriority_WriterThreadAsksTheHeartbeatThreadsPriority()
    {
        var priority = new RecordingPriority();
        using var writer = new LeaseWriter(() => TimeSpan.Zero, [], NullLogger.Instance);

        writer.Start(priority, MembershipHost.HeartbeatPriority);
        await Poll.UntilAsync(() => Task.FromResult(priority.Asked), n => n != 0, "the writer thread raised itself", Poll.DefaultTimeout, TestContext.CancellationToken);
        writer.Stop();

        Assert.AreEqual(MembershipHost.HeartbeatPriority, priority.Asked);
    }

    [TestMethod]
    public async Task Post_EverySinkRefreshesInline_WritesOnTheCallersThreadWithoutWakingTheWriter()
    {
        var sink = new InlineSink();
        using var writer = new LeaseWriter(() => TimeSpan.FromMilliseconds(40), [sink], NullLogger.Instance);
        writer.Start(null, MembershipHost.HeartbeatPriority);
        await Task.Yield();

        writer.Post(TimeSpan.FromMilliseconds(190));

        Assert.AreEqual((TimeSpan.FromMilliseconds(150), Environment.CurrentManagedThreadId), (sink.Duration, sink.Thread), "written at once, on the posting thread");
    }

    private sealed class InlineSink : IOwnershipSink
    {
        public TimeSpan Duration { get; private set; }

        public int Thread { get; private set; }

        public bool RefreshesLeaseInline => true;

        public void Publish(OwnershipSnapshot snapshot)
        {
        }

        public void RefreshLease(TimeSpan duration) => (Duration, Thread) = (duration, Environment.CurrentManagedThreadId);
    }

    /// <summary>Records every lease written; when <paramref name="held"/>, holds each write until <see cref="Release"/> is set.</summary>
    private sealed class BlockingSink(bool held = true) : IOwnershipSink
    {
        public ConcurrentQueue<TimeSpan> Durations { get; } = new();

        public SemaphoreSlim Entered { get; } = new(0);

        public ManualResetEventSlim Release { get; } = new(!held);

        public void Publish(OwnershipSnapshot snapshot)
        {
        }

        public void RefreshLease(TimeSpan duration)
        {
            Durations.Enqueue(duration);
            Entered.Release();
            Release.Wait();
        }
    }
}
