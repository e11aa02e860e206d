using Farm.Cluster.Membership;
using System.Collections.Concurrent;

namespace Farm.Daemon.Tests.Heartbeat;

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

    [TestMethod]
    public void Step_NoViewYet_PollsWithinPollInterval()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var host = new MembershipHost(Options, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], clock, NullLoggerFactory.Instance);
        host.Attach(new RecordingTransport());

        host.Step();

        Assert.AreEqual(host.Now + MembershipHost.PollInterval, host.NextPollDue, "no view: the coordinator may act any moment");
    }

    [TestMethod]
    public void Step_SettledView_NextPollAtDetectionDeadlineNotPollInterval()
    {
        var pair = HostPair.Settled();

        pair.N1.Step();
        TimeSpan lastHeard = pair.N1.Read((m, now) => m.PeerStatuses(now).Single().LastHeard!.Value);

        Assert.AreEqual(lastHeard + Options.DetectionTimeout, pair.N1.NextPollDue, "only n2's detection deadline can unsettle the view");
        Assert.IsTrue(pair.N1.NextPollDue > pair.N1.Now + HeartbeatIntervalOf(pair.N1), "an idle node sleeps through to the next tick");
    }

    [TestMethod]
    public void Poll_AtDetectionDeadlineOfSilentPeer_ProposesViewWithoutIt()
    {
        var pair = HostPair.Settled();
        long epoch = pair.N1.Read((m, _) => m.Installed!.Id.Epoch);

        // n2 falls silent: n1 ticks on alone every interval (its heartbeats go nowhere) until n2's detection deadline
        // falls before the next tick. Ticks, not a jump of the clock: a gap of several intervals is a stall of n1, which
        // does not count as n2's silence (StallLedger).
        pair.Connected = false;
        pair.N1.Step();
        while (pair.N1.NextPollDue > pair.N1.Now + Options.HeartbeatInterval)
        {
            pair.Clock.Advance(Options.HeartbeatInterval);
            pair.N1.Step();
        }

        TimeSpan due = pair.N1.NextPollDue;
        pair.Clock.Advance(due - pair.N1.Now);
        pair.N1.Poll();

        Assert.AreEqual(epoch + 1, pair.N1.Read((m, _) => m.Installed!.Id.Epoch), "removed at the deadline, not at the next tick");
        Assert.IsTrue(pair.N1.Read((m, _) => m.Installed!.Members.Select(x => x.Name).SequenceEqual(["n1"])));
    }

    /// <summary>A settled pair whose n1 has handled n2's heartbeat and polled (what the thread does on a wake-up: clears it); and that heartbeat.</summary>
    private static (HostPair Pair, HeartbeatRequest Heartbeat) SettledAfterAHeartbeat()
    {
        var pair = HostPair.Settled();
        var heartbeat = pair.HeartbeatFromN2();
        pair.N1.HandleRequest("n2", 0, heartbeat);
        pair.N1.Poll();
        return (pair, heartbeat);
    }

    [TestMethod]
    public void HandleRequest_HeartbeatSayingNothingNew_DoesNotWakeTheThread()
    {
        var (pair, same) = SettledAfterAHeartbeat();

        pair.Clock.Advance(TimeSpan.FromMilliseconds(100));
        pair.N1.HandleRequest("n2", 0, same);

        Assert.IsFalse(pair.N1.WakePending);
    }

    [TestMethod]
    public void HandleRequest_HeartbeatWithNewWeight_WakesTheThread()
    {
        var (pair, hb) = SettledAfterAHeartbeat();

        pair.N1.HandleRequest("n2", 0, hb with { Sender = hb.Sender with { Weight = 50 } });

        Assert.IsTrue(pair.N1.WakePending, "the coordinator must rebalance now, not at the next tick");
    }

    [TestMethod]
    public void HandleRequest_HeartbeatAfterLongSilence_WakesTheThread()
    {
        var (pair, hb) = SettledAfterAHeartbeat();

        pair.Clock.Advance(Options.DetectionTimeout / 2);
        pair.N1.HandleRequest("n2", 0, hb);

        Assert.IsTrue(pair.N1.WakePending, "n2 may have been lost meanwhile: its return is news");
    }

    [TestMethod]
    public void Start_SettledPairOnSystemClock_PollsFarLessThanEveryPollInterval()
    {
        var n1Transport = new RecordingTransport();
        var n2Transport = new RecordingTransport();
        using var n1 = new MembershipHost(Options, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);
        using var n2 = new MembershipHost(Options, new MemberInfo("n2", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);
        n1Transport.Deliver = r => Exchange(n1, "n1", n2, r);
        n2Transport.Deliver = r => Exchange(n2, "n2", n1, r);
        n1.Attach(n1Transport);
        n2.Attach(n2Transport);
        n1.Start();
        n2.Start();
        try
        {
            Assert.IsTrue(SpinWait.SpinUntil(() => n1.Read((m, _) => m.Installed?.Members.Length == 2), TimeSpan.FromSeconds(20)), "no view of two");
            long ticks = n1.Ticks;
            long polls = n1.Polls;

            // Ten intervals of real time: the thread sleeps on an OS wait handle, so a manual clock cannot drive it.
            Assert.IsTrue(SpinWait.SpinUntil(() => n1.Ticks >= ticks + 10, TimeSpan.FromSeconds(10)), "the thread stopped ticking");

            long ticked = n1.Ticks - ticks;
            long polled = n1.Polls - polls;
            // With 5 ms polling this was ~19 polls per tick; now a poll needs a deadline or news.
            Assert.IsTrue(polled <= ticked / 2 + 2, $"{polled} polls for {ticked} ticks");
        }
        finally
        {
            n1.Stop();
            n2.Stop();
        }

        static void Exchange(MembershipHost from, string fromName, MembershipHost to, OutboundRequest request) =>
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                try
                {
                    from.HandleReply(request.CorrelationId, to.HandleRequest(fromName, request.Lan, request.Message));
                }
                catch (ArgumentException)
                {
                    // a host that is already stopped: the request is lost, as on a network
                }
            }, null);
    }

    private static TimeSpan HeartbeatIntervalOf(MembershipHost host) => host.Options.HeartbeatInterval;

    /// <summary>Two hosts on one manual clock; requests are exchanged synchronously when pumped.</summary>
    private sealed class HostPair
    {
        private readonly RecordingTransport t1 = new();
        private readonly RecordingTransport t2 = new();

        private HostPair(IOwnershipSink? n1Sink = null)
        {
            N1 = new MembershipHost(Options, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], Clock, NullLoggerFactory.Instance);
            N2 = new MembershipHost(Options, new MemberInfo("n2", 1, 100, 0, false, []), "hash", [], Clock, NullLoggerFactory.Instance);
            N1.Attach(t1);
            N2.Attach(t2);
            if (n1Sink is not null)
            {
                N1.AttachSink(n1Sink);
            }
        }

        /// <summary>What n1 sent and nobody pumped yet.</summary>
        public IEnumerable<MembershipMessage> SentByN1 => t1.Sent.Select(r => r.Message);

        /// <summary>
        /// Ticks both every interval (pumping every exchange) until n1, the coordinator, has sent its first Prepare and
        /// nothing was pumped since; <paramref name="n1Sink"/> is n1's data plane.
        /// </summary>
        public static HostPair ProposingFirstView(IOwnershipSink n1Sink)
        {
            var pair = new HostPair(n1Sink);
            for (int i = 0; i < 200; i++)
            {
                // Only n1's tick and poll propose.
                foreach (var act in (ReadOnlySpan<Action>)[pair.N1.Step, pair.N1.Poll])
                {
                    act();
                    if (pair.SentByN1.Any(m => m is PrepareRequest))
                    {
                        return pair;
                    }

                    pair.N2.Step();
                    pair.Pump();
                }

                pair.Clock.Advance(Options.HeartbeatInterval);
            }

            Assert.Fail("n1 proposed no view");
            return pair;
        }

        public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

        public MembershipHost N1 { get; }

        public MembershipHost N2 { get; }

        /// <summary>False: requests are dropped (a partition or a dead peer).</summary>
        public bool Connected { get; set; } = true;

        /// <summary>Ticks both every interval (pumping every exchange) until both installed a view of both.</summary>
        public static HostPair Settled()
        {
            var pair = new HostPair();
            for (int i = 0; i < 200 && !pair.BothInView(); i++)
            {
                pair.N1.Step();
                pair.N2.Step();
                pair.Pump();
                pair.N1.Poll();
                pair.N2.Poll();
                pair.Pump();
                pair.Clock.Advance(Options.HeartbeatInterval);
            }

            Assert.IsTrue(pair.BothInView(), "the pair did not form a view of both");
            pair.N1.Step();
            pair.N2.Step();
            pair.Pump();
            return pair;
        }

        public HeartbeatRequest HeartbeatFromN2() =>
            N2.Read((m, _) => new HeartbeatRequest(m.Self, N2.ConfigHash, m.Installed?.Id, m.Promised?.Id));

        private bool BothInView() =>
            N1.Read((m, _) => m.Installed?.Members.Length == 2) && N2.Read((m, _) => m.Installed?.Members.Length == 2);

        /// <summary>Hands every queued request to the other host and its reply back, until nothing is queued.</summary>
        public void Pump()
        {
            for (int round = 0; round < 20; round++)
            {
                bool any = false;
                while (t1.Sent.TryDequeue(out var r))
                {
                    any = true;
                    if (Connected)
                    {
                        N1.HandleReply(r.CorrelationId, N2.HandleRequest("n1", r.Lan, r.Message));
                    }
                }

                while (t2.Sent.TryDequeue(out var r))
                {
                    any = true;
                    if (Connected)
                    {
                        N2.HandleReply(r.CorrelationId, N1.HandleRequest("n2", r.Lan, r.Message));
                    }
                }

                if (!any)
                {
                    return;
                }
            }
        }
    }

    [TestMethod]
    public void Start_PriorityRefused_WarnsWithTheReasonAndKeepsTicking()
    {
        using var logs = new TestLogSink();
        using var factory = new Microsoft.Extensions.Logging.LoggerFactory([logs]);
        var priority = new RefusingPriority();
        using var host = new MembershipHost(Options, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, factory);
        host.Attach(new RecordingTransport());
        host.UseRealtimePriority(priority);
        host.Start();

        Assert.IsTrue(SpinWait.SpinUntil(() => host.Ticks >= 3, TimeSpan.FromSeconds(10)), "the heartbeat thread did not tick after the refusal");
        host.Stop();

        Assert.AreEqual(MembershipHost.HeartbeatPriority, priority.Asked, "the heartbeat thread asked for its priority");
        var warning = logs.Entries.Single(e => e.Id.Id == 203);
        Assert.AreEqual(LogLevel.Warning, warning.Level);
        StringAssert.Contains(warning.Message, RefusingPriority.Reason);
    }

    [TestMethod]
    public void Start_RealtimeThreadAsRoot_HeartbeatThreadRunsSchedRoundRobin()
    {
        if (Environment.UserName != "root" || !OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("needs root on Linux (CAP_SYS_NICE)");
        }

        using var host = new MembershipHost(Options, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);
        host.Attach(new RecordingTransport());
        host.UseRealtimePriority(new Farm.Native.Linux.RealtimeThread());
        host.Start();
        Assert.IsTrue(SpinWait.SpinUntil(() => host.Ticks >= 2, TimeSpan.FromSeconds(10)));

        // /proc/self/task/TID/stat: field 40 is rt_priority, 41 the policy (sched(7): 2 = SCHED_RR); fields after the
        // command name, which is in parentheses.
        var heartbeat = Directory.GetDirectories("/proc/self/task")
            .Single(t => File.ReadAllText(Path.Combine(t, "comm")).Trim() == "farm-heartbeat");
        string stat = File.ReadAllText(Path.Combine(heartbeat, "stat"));
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        host.Stop();

        Assert.AreEqual("2", fields[41 - 3], "scheduling policy of the heartbeat thread");
        Assert.AreEqual(MembershipHost.HeartbeatPriority.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[40 - 3], "real-time priority");
    }

    [TestMethod]
    public void HandleRequest_ProposalLeavesOutANodeSilentForAnInterval_ItsPortIsProbedOncePerInterval()
    {
        // n2 hears n1 and n3; n1 proposes a view without n3 (it saw n3's farmd die). n2 refuses while it still hears
        // n3, and probes n3's port when n3 said nothing for an interval: not before, and not at every retry.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new MembershipOptions { ConfiguredNodes = ["n1", "n2", "n3"], Heartbeat = new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) } };
        MemberInfo n1 = new("n1", 1, 100, 0, false, []), n2 = new("n2", 1, 100, 0, false, []), n3 = new("n3", 1, 100, 0, false, []);
        var transport = new RecordingTransport();
        using var host = new MembershipHost(options, n2, "hash", [], clock, NullLoggerFactory.Instance);
        host.Attach(transport);
        host.HandleRequest("n1", 0, new HeartbeatRequest(n1, "hash", null, null));
        host.HandleRequest("n3", 0, new HeartbeatRequest(n3, "hash", null, null));
        PrepareReply Propose(int epoch) =>
            (PrepareReply)host.HandleRequest("n1", 0, new PrepareRequest(new ViewId(epoch, "n1", 1), [n1, n2], null, [n3], 0, null));

        clock.Advance(TimeSpan.FromMilliseconds(20));
        var early = Propose(1);
        clock.Advance(TimeSpan.FromMilliseconds(40));
        var silent = Propose(2);
        clock.Advance(TimeSpan.FromMilliseconds(10));
        Propose(3);

        Assert.IsFalse(early.Accepted);
        Assert.AreEqual("n3", early.StillHeard.Single().Name, early.Reason);
        Assert.IsFalse(silent.Accepted, "n3 is still heard: only a refused probe makes it gone");
        CollectionAssert.AreEqual(new[] { "n3" }, transport.Probed.ToArray(), "one probe, once n3 was silent for 50 ms");
    }

    [TestMethod]
    public void HandleRequest_HeartbeatNamesAPeerGoneThatThisNodeStillHears_ItsPortIsProbedOncePerInterval()
    {
        // n1 saw n3's farmd die; n2's own connection to n3 has not broken yet. n2 probes n3's port on n1's word (its own
        // refusal would make n3 gone), once per interval however many heartbeats repeat it; nobody probes itself or an
        // unknown name, and a peer this node already counts gone is not probed again.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new MembershipOptions { ConfiguredNodes = ["n1", "n2", "n3", "n4"], Heartbeat = new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) } };
        MemberInfo n1 = new("n1", 1, 100, 0, false, []), n2 = new("n2", 1, 100, 0, false, []), n3 = new("n3", 1, 100, 0, false, []), n4 = new("n4", 1, 100, 0, false, []);
        var transport = new RecordingTransport();
        using var host = new MembershipHost(options, n2, "hash", [], clock, NullLoggerFactory.Instance);
        host.Attach(transport);
        host.HandleRequest("n3", 0, new HeartbeatRequest(n3, "hash", null, null));
        host.HandleRequest("n4", 0, new HeartbeatRequest(n4, "hash", null, null));
        void Told(params string[] gone) => host.HandleRequest("n1", 0, new HeartbeatRequest(n1, "hash", null, null, Gone: gone));

        Told("n3", "n2", "nobody");
        clock.Advance(TimeSpan.FromMilliseconds(20));
        Told("n3");
        CollectionAssert.AreEqual(new[] { "n3" }, transport.Probed.ToArray(), "one probe within the interval");

        clock.Advance(TimeSpan.FromMilliseconds(30));
        Told("n3");
        Assert.AreEqual(2, transport.Probed.Count, "probed again an interval later while n3 is still heard");

        Assert.IsTrue(host.NotePeerGone("n4", 0), "n2's own probe of n4 was refused");
        Told("n4");
        Assert.AreEqual(2, transport.Probed.Count, "n4 is gone here already: no probe");
    }

    [TestMethod]
    public void HandleRequest_HeartbeatThatWaitedThroughAStall_ItsSenderIsNotVouchedFor()
    {
        // n2 resumes after a stall of 1 s and reads a heartbeat of n3 that waited in its socket: received now, but it
        // echoes a heartbeat n2 sent before the stall. n1 proposes a view without n3: n2 promises it. A heartbeat that
        // echoes one n2 sent within the detection timeout makes it refuse (chaos soak, 2026-12-05).
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new MembershipOptions { ConfiguredNodes = ["n1", "n2", "n3"], Heartbeat = new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) } };
        MemberInfo n1 = new("n1", 1, 100, 0, false, []), n2 = new("n2", 1, 100, 0, false, []), n3 = new("n3", 1, 100, 0, false, []);
        using var host = new MembershipHost(options, n2, "hash", [], clock, NullLoggerFactory.Instance);
        host.Attach(new RecordingTransport());
        var beforeStall = host.Now;
        host.HandleRequest("n1", 0, new HeartbeatRequest(n1, "hash", null, null, SentAt: TimeSpan.FromSeconds(7), Echo: beforeStall));
        host.HandleRequest("n3", 0, new HeartbeatRequest(n3, "hash", null, null, SentAt: TimeSpan.FromSeconds(9), Echo: beforeStall));
        PrepareReply Propose(int epoch) =>
            (PrepareReply)host.HandleRequest("n1", 0, new PrepareRequest(
                new ViewId(epoch, "n1", 1), [n1, n2], null, [n3], ClusterView.ComputeFingerprint(ClusterView.ComputeTables(null, [n1, n2], [], epoch)), null));
        var fresh = Propose(1);

        clock.Advance(TimeSpan.FromSeconds(1));
        host.HandleRequest("n1", 0, new HeartbeatRequest(n1, "hash", null, null, SentAt: TimeSpan.FromSeconds(8), Echo: host.Now - TimeSpan.FromMilliseconds(20)));
        host.HandleRequest("n3", 0, new HeartbeatRequest(n3, "hash", null, null, SentAt: TimeSpan.FromSeconds(9.05), Echo: beforeStall + TimeSpan.FromMilliseconds(40)));
        var afterStall = Propose(2);

        host.HandleRequest("n3", 0, new HeartbeatRequest(n3, "hash", null, null, SentAt: TimeSpan.FromSeconds(10), Echo: host.Now - TimeSpan.FromMilliseconds(60)));
        var heardAgain = Propose(3);

        Assert.IsFalse(fresh.Accepted, "n3 echoed a heartbeat n2 just sent: n2 vouches for it");
        Assert.AreEqual("n3", fresh.StillHeard.Single().Name, fresh.Reason);
        Assert.IsTrue(afterStall.Accepted, $"n3's last proof of life is 1 s old, though its heartbeat was received now: {afterStall.Reason}");
        Assert.IsFalse(heardAgain.Accepted, "n3 echoed a heartbeat n2 sent 60 ms ago: n2 vouches for it again");
        Assert.AreEqual("n3", heardAgain.StillHeard.Single().Name, heardAgain.Reason);
    }

    [TestMethod]
    public async Task HandleRequest_PrepareResentWhileTheFirstCopyIsStillApplying_SecondAckWaitsForTheKernel()
    {
        // The coordinator resends a Prepare the first copy of which is still waiting for the data plane. The second
        // copy finds the view promised already and is acknowledged again: that acknowledgement too may leave only
        // once the kernel holds the promise (chaos soak, 2026-12-05: the coordinator committed on the second ack and
        // the new owner claimed buckets the old one still accepted for 32 ms).
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new MembershipOptions { ConfiguredNodes = ["n1", "n2"], Heartbeat = new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) } };
        MemberInfo n1 = new("n1", 1, 100, 0, false, []), n2 = new("n2", 1, 100, 0, false, []);
        using var host = new MembershipHost(options, n2, "hash", [], clock, NullLoggerFactory.Instance);
        host.Attach(new RecordingTransport());
        using var sink = new HoldingSink();
        host.AttachSink(sink);
        host.HandleRequest("n1", 0, new HeartbeatRequest(n1, "hash", null, null));
        var prepare = new PrepareRequest(new ViewId(1, "n1", 1), [n1, n2], null, [], ClusterView.ComputeFingerprint(ClusterView.ComputeTables(null, [n1, n2], [], 1)), null);

        sink.HoldNext();
        var first = Task.Run(() => (PrepareReply)host.HandleRequest("n1", 0, prepare));
        long held = await sink.Held.Task.WithTimeout();
        var second = Task.Run(() => ((PrepareReply)host.HandleRequest("n1", 0, prepare), sink.Applied));
        await Task.Delay(200); // room for an early answer (the old code answered at once)
        sink.Release();
        var (again, appliedWhenAnswered) = await second.WithTimeout();
        var once = await first.WithTimeout();

        Assert.IsTrue(once.Accepted, once.Reason);
        Assert.IsTrue(again.Accepted, again.Reason);
        Assert.IsTrue(appliedWhenAnswered >= held, $"the second acknowledgement left when the kernel held version {appliedWhenAnswered}, the promise is version {held}");
    }

    [TestMethod]
    public async Task HandleRequest_HeartbeatWhoseReportChangesOwnershipWhileTheKernelIsBusy_IsAnsweredWithoutWaiting()
    {
        // n2 installed a view and claims its buckets until n1 reports as of it. n1's report ends the claim: n2's
        // ownership changes and goes to the data plane, which is busy (held here). The heartbeat's answer must not wait
        // for that apply: on a stream every later heartbeat waits behind it, and under majority the sender's lease lapsed
        // for want of timely answers (chaos soak, 2026-12-05). A Prepare's acknowledgement still waits (test above).
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = new MembershipOptions { ConfiguredNodes = ["n1", "n2"], TracksDrains = true, Heartbeat = new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) } };
        ModuleSpec[] modules = [new("web", 256, BucketMode.Balance, false)]; // no definition hash: in every view's tables
        MemberInfo n1 = new("n1", 1, 100, 0, false, ["web"]), n2 = new("n2", 1, 100, 0, false, ["web"]), n2Idle = n2 with { ReadyModules = [] };
        using var host = new MembershipHost(options, n2, "hash", modules, clock, NullLoggerFactory.Instance);
        host.Attach(new RecordingTransport());
        using var sink = new HoldingSink();
        host.AttachSink(sink);
        host.HandleRequest("n1", 0, new HeartbeatRequest(n1, "hash", null, null));
        // View 1: n1 serves every bucket. View 2: n2 is ready and gains half of them, claimed until n1 reports as of view 2.
        var first = new ViewId(1, "n1", 1);
        var firstTables = ClusterView.ComputeTables(null, [n1, n2Idle], modules, 1);
        var prepared = (PrepareReply)host.HandleRequest("n1", 0, new PrepareRequest(first, [n1, n2Idle], null, [], ClusterView.ComputeFingerprint(firstTables), null));
        Assert.IsTrue(prepared.Accepted, prepared.Reason);
        host.HandleRequest("n1", 0, new CommitRequest(first));
        var id = new ViewId(2, "n1", 1);
        var tables = ClusterView.ComputeTables(firstTables, [n1, n2], modules, 2);
        prepared = (PrepareReply)host.HandleRequest("n1", 0, new PrepareRequest(id, [n1, n2], first, [], ClusterView.ComputeFingerprint(tables), null));
        Assert.IsTrue(prepared.Accepted, prepared.Reason);
        host.HandleRequest("n1", 0, new CommitRequest(id));
        int claimedBefore = host.Read((m, _) => m.Ownership.Modules["web"].Claimed);

        sink.HoldNext();
        var answer = Task.Run(() => host.HandleRequest("n1", 0, new HeartbeatRequest(n1, "hash", id, null, Drains: new DrainReport(id, []))));
        long held = await sink.Held.Task.WithTimeout();
        var answered = await Task.WhenAny(answer, Task.Delay(TimeSpan.FromSeconds(5)));
        bool answeredWhileHeld = answered == answer && !sink.IsReleased;
        sink.Release();
        var reply = await answer.WithTimeout();

        Assert.IsTrue(claimedBefore > 0, "n2 claims the buckets it gained in view 2");
        Assert.AreEqual(0, host.Read((m, _) => m.Ownership.Modules["web"].Claimed), "n1's report ended the claims");
        Assert.IsTrue(answeredWhileHeld, "the heartbeat was answered only after the data plane's apply");
        Assert.IsInstanceOfType<HeartbeatReply>(reply);
        await Poll.UntilAsync(() => Task.FromResult(sink.Applied), v => v >= held, "the change reaches the data plane once it is free", TimeSpan.FromSeconds(5), CancellationToken.None);
    }

    [TestMethod]
    public async Task HandleReply_LastAcknowledgementWhileTheKernelIsBusy_CommitLeavesBeforeTheCoordinatorsOwnApply()
    {
        // n1 proposes the pair's first view; n2's acknowledgement completes it. The commit says nothing about n1's kernel
        // (n1 put its releases in with its promise, before the Prepare): it must not wait behind n1's own apply of the
        // view, or every member installs an apply later (a real 5-node partition: 23 ms on the way to serving).
        using var sink = new HoldingSink();
        var pair = HostPair.ProposingFirstView(sink);

        sink.HoldNext();
        var pumped = Task.Run(pair.Pump); // n2 acknowledges, n1 commits and installs
        await sink.Held.Task.WithTimeout();
        bool committedWhileHeld = pair.SentByN1.Any(m => m is CommitRequest);
        sink.Release();
        await pumped.WithTimeout();

        Assert.IsTrue(committedWhileHeld, "the commit left only after n1's kernel held the view");
        Assert.IsTrue(pair.N1.Read((m, _) => m.Installed?.Members.Length == 2), "n1 installed the view");
    }

    /// <summary>A data plane whose next publish waits until released; publishes are serialized, as the real one's lock does.</summary>
    private sealed class HoldingSink : IOwnershipSink, IDisposable
    {
        private readonly Lock applying = new();
        private readonly ManualResetEventSlim released = new(true);
        private long applied = -1;

        public TaskCompletionSource<long> Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The highest version applied so far.</summary>
        public long Applied => Interlocked.Read(ref applied);

        public void HoldNext() => released.Reset();

        public void Release() => released.Set();

        public bool IsReleased => released.IsSet;

        public void Publish(OwnershipSnapshot snapshot)
        {
            lock (applying)
            {
                if (!released.IsSet)
                {
                    Held.TrySetResult(snapshot.Version);
                    released.Wait();
                }

                if (snapshot.Version > applied)
                {
                    Interlocked.Exchange(ref applied, snapshot.Version);
                }
            }
        }

        public void RefreshLease(TimeSpan duration)
        {
        }

        public void Dispose() => released.Dispose();
    }

    private sealed class RefusingPriority : Farm.Core.Scheduling.IThreadPriority
    {
        public const string Reason = "refused by the test";

        public int Asked { get; private set; }

        public string? TryRaiseCurrentThread(int priority)
        {
            Asked = priority;
            return Reason;
        }
    }

    private sealed class RecordingTransport : IPeerTransport
    {
        public ConcurrentQueue<OutboundRequest> Sent { get; } = new();

        public ConcurrentQueue<string> Probed { get; } = new();

        /// <summary>When set, requests go there instead of the queue.</summary>
        public Action<OutboundRequest>? Deliver { get; set; }

        public void Send(OutboundRequest request)
        {
            if (Deliver is { } deliver)
            {
                deliver(request);
            }
            else
            {
                Sent.Enqueue(request);
            }
        }

        public void ProbeGone(string peer, string trigger) => Probed.Enqueue(peer);
    }
}
