using System.Collections.Concurrent;

namespace Farm.DataPlane.Tests.Runtime;

[TestClass]
public sealed class PeriodicThreadTests
{
    [TestMethod]
    public async Task Wake_PeriodNotOver_TicksAtOnce()
    {
        int ticks = 0;
        using var loop = new PeriodicThread("test-periodic", TimeSpan.FromHours(1), () => Interlocked.Increment(ref ticks) > 0, _ => { });
        loop.Start();

        loop.Wake();

        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref ticks)), n => n == 1, "one tick after the wake", Poll.DefaultTimeout, CancellationToken.None);
    }

    [TestMethod]
    public async Task Tick_ReturnsFalse_SleepsUntilWoken()
    {
        int ticks = 0;
        using var loop = new PeriodicThread("test-periodic", TimeSpan.FromMilliseconds(10), () => Interlocked.Increment(ref ticks) > 2, _ => { });
        loop.Start();
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref ticks)), n => n == 1, "the first tick, after one period", Poll.DefaultTimeout, CancellationToken.None);

        await Task.Delay(TimeSpan.FromMilliseconds(200)); // twenty periods
        int idle = Volatile.Read(ref ticks);
        loop.Wake();
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref ticks)), n => n == 2, "a tick after the wake", Poll.DefaultTimeout, CancellationToken.None);
        loop.Wake();
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref ticks)), n => n >= 5, "ticks every period once a tick returned true", Poll.DefaultTimeout, CancellationToken.None);

        Assert.AreEqual(1, idle, "a tick that returned false was followed by more ticks without a wake");
    }

    [TestMethod]
    public async Task Tick_Throws_FailedGetsTheExceptionAndTheLoopGoesOn()
    {
        int ticks = 0;
        var failures = new ConcurrentQueue<Exception>();
        bool Tick()
        {
            if (Interlocked.Increment(ref ticks) == 1)
            {
                throw new InvalidOperationException("first tick");
            }

            return true;
        }

        using var loop = new PeriodicThread("test-periodic", TimeSpan.FromMilliseconds(10), Tick, failures.Enqueue);
        loop.Start();

        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref ticks)), n => n >= 3, "ticks after the failing one", Poll.DefaultTimeout, CancellationToken.None);
        Assert.AreEqual("first tick", failures.Single().Message);
    }

    [TestMethod]
    public async Task Stop_Running_ReturnsOnceTheThreadEnded()
    {
        Thread? ticker = null;
        using var loop = new PeriodicThread("test-periodic", TimeSpan.FromMilliseconds(10), () =>
        {
            Volatile.Write(ref ticker, Thread.CurrentThread);
            return true;
        }, _ => { });
        loop.Start();
        var thread = await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref ticker)), t => t is not null, "a first tick", Poll.DefaultTimeout, CancellationToken.None);

        loop.Stop();

        Assert.IsFalse(thread!.IsAlive, "the loop's thread still runs after Stop");
        Assert.AreEqual("test-periodic", thread.Name);
    }
}
