using System.Collections.Concurrent;
using Farm.Cluster.Membership;
using Farm.Testing.Waiting;

namespace Farm.Daemon.Tests.Heartbeat;

[TestClass]
public sealed class WitnessProberTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Spacing_DefaultInterval_HalfOfIt()
    {
        using var host = NewHost();
        using var prober = new WitnessProber(IPAddress.Parse("198.18.1.250"), TimeSpan.FromMilliseconds(50), host, new CountingPing(), TimeProvider.System, NullLogger<WitnessProber>.Instance);

        Assert.AreEqual(TimeSpan.FromMilliseconds(25), prober.Spacing);
    }

    [TestMethod]
    public async Task Start_WithThreadPriority_ProbeThreadAsksTheHeartbeatThreadsPriorityAndProbesWithTheIntervalAsTimeout()
    {
        using var host = NewHost();
        var ping = new CountingPing();
        var priority = new RecordingPriority();
        using var prober = new WitnessProber(IPAddress.Parse("198.18.1.250"), TimeSpan.FromMilliseconds(50), host, ping, TimeProvider.System, NullLogger<WitnessProber>.Instance, priority);

        prober.Start();
        await Poll.UntilAsync(() => Task.FromResult(ping.Timeouts.Count), n => n >= 3, "three probes", Poll.DefaultTimeout, TestContext.CancellationToken);
        prober.Stop();

        Assert.AreEqual(MembershipHost.HeartbeatPriority, priority.Asked, "the probe thread runs at the heartbeat thread's real-time priority");
        Assert.IsTrue(ping.Timeouts.All(t => t == TimeSpan.FromMilliseconds(50)), "each probe may wait one interval");
    }

    /// <summary>A lone node's host: the prober only reports answers to it.</summary>
    private static MembershipHost NewHost() =>
        new(new MembershipOptions { ConfiguredNodes = ["n1"] }, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);

    private sealed class CountingPing : IWitnessPing
    {
        public ConcurrentQueue<TimeSpan> Timeouts { get; } = new();

        public bool Probe(IPAddress address, TimeSpan timeout)
        {
            Timeouts.Enqueue(timeout);
            return true;
        }

        public void Dispose()
        {
        }
    }
}
