using System.Collections.Concurrent;
using Farm.Cluster.Membership;
using Farm.Daemon.Membership;
using Farm.Daemon.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Farm.Daemon.Tests.Membership;

[TestClass]
public sealed class MembershipHostTests
{
    private static readonly MembershipOptions Options = new() { ConfiguredNodes = ["n1", "n2"] };

    [TestMethod]
    public void Start_ThreadPoolStarved_HeartbeatThreadKeepsTickingAndSending()
    {
        var transport = new RecordingTransport();
        using var host = new MembershipHost(Options, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);
        host.Attach(transport);
        host.Start();
        // Not disposed before every blocker has run: a late blocker would wait on a disposed event.
        var release = new ManualResetEventSlim(false);
        using var probeRan = new ManualResetEventSlim(false);
        int blockers = Environment.ProcessorCount * 32;
        using var finished = new CountdownEvent(blockers);
        try
        {
            // Occupy every pool thread (and the ones it injects meanwhile) with blocking work.
            for (int i = 0; i < blockers; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_ =>
                {
                    release.Wait();
                    finished.Signal();
                }, null);
            }

            ThreadPool.UnsafeQueueUserWorkItem(_ => probeRan.Set(), null);
            long ticksBefore = host.Ticks;
            int sendsBefore = transport.Sent.Count;

            Assert.IsFalse(probeRan.Wait(TimeSpan.FromSeconds(1)), "the pool was not starved: the test proves nothing");
            long ticked = host.Ticks - ticksBefore;
            Assert.IsTrue(ticked >= 5, $"only {ticked} ticks in 1 s of starvation (interval 100 ms)");
            Assert.IsTrue(transport.Sent.Count - sendsBefore >= 5, "heartbeats to n2 were handed to the transport");
        }
        finally
        {
            release.Set();
            host.Stop();

            // Leave a healthy pool to the next test.
            Assert.IsTrue(finished.Wait(TimeSpan.FromSeconds(20)), "the blockers did not drain");
            release.Dispose();
        }
    }

    [TestMethod]
    public void Stop_WhileRunning_ThreadEndsAndTicksStop()
    {
        var transport = new RecordingTransport();
        var host = new MembershipHost(Options, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);
        host.Attach(transport);
        host.Start();
        SpinWait.SpinUntil(() => host.Ticks >= 2, TimeSpan.FromSeconds(5));

        host.Dispose();
        long after = host.Ticks;

        Assert.IsFalse(host.IsRunning);
        Assert.IsTrue(after >= 2);
        Assert.IsFalse(SpinWait.SpinUntil(() => host.Ticks > after, TimeSpan.FromMilliseconds(300)), "ticked after Stop");
    }

    private sealed class RecordingTransport : IPeerTransport
    {
        public ConcurrentQueue<OutboundRequest> Sent { get; } = new();

        public void Send(OutboundRequest request) => Sent.Enqueue(request);
    }
}
