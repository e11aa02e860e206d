namespace Farm.Cluster.Tests;

/// <summary>
/// Quiet heartbeats (<see cref="MembershipOptions.QuietSpan"/>): two drivers wired back to back, every message delivered
/// at once and a quiet heartbeat answered by nothing (as farmd's heartbeat stream does), ticking every interval.
/// </summary>
[TestClass]
public sealed class QuietHeartbeatTests
{
    private static readonly ModuleSpec[] Modules = [new("web", 256, BucketMode.Balance, false)];

    [TestMethod]
    public void SendHeartbeats_SteadyLeasePolicyNone_OneHeartbeatPerQuietSpanAsksAnAnswer()
    {
        var pair = new Pair(SplitBrainPolicy.None);
        pair.Run(TimeSpan.FromSeconds(3)); // one view, steady leases

        var sent = pair.Run(TimeSpan.FromSeconds(1));

        var toPeer = sent.Where(s => s.From == "n1").ToList();
        Assert.AreEqual(20, toPeer.Count, "one heartbeat an interval: detection hears the peer as often as before");
        var asking = toPeer.Where(s => !s.Quiet).Select(s => s.At).ToList();
        Assert.IsTrue(asking.Count is >= 3 and <= 5, $"one heartbeat per {pair.Options.QuietSpan.TotalMilliseconds} ms asks an answer, got {asking.Count} in 1 s");
        for (int i = 1; i < asking.Count; i++)
        {
            Assert.IsTrue(asking[i] - asking[i - 1] <= pair.Options.QuietSpan + pair.Options.HeartbeatInterval, $"gap {asking[i] - asking[i - 1]} between answered heartbeats");
        }

        Assert.AreEqual(2, pair.N1.Manager.Installed!.Members.Length);
        Assert.IsTrue(pair.N1.Manager.LeaseExpiry > pair.Now, "the lease is still refreshed every tick");
    }

    [TestMethod]
    public void SendHeartbeats_PolicyMajority_EveryHeartbeatAsksAnAnswer()
    {
        var pair = new Pair(SplitBrainPolicy.Majority);
        pair.Run(TimeSpan.FromSeconds(3));

        var sent = pair.Run(TimeSpan.FromSeconds(1));

        Assert.AreEqual(40, sent.Count);
        Assert.IsFalse(sent.Any(s => s.Quiet), "a majority lease counts fresh answers on every tick");
        Assert.IsTrue(pair.N1.Manager.LeaseExpiry > pair.Now);
    }

    [TestMethod]
    public void SendHeartbeats_AfterALeaseLapse_AskAnswersUntilTheLeaseIsBack()
    {
        var pair = new Pair(SplitBrainPolicy.None);
        pair.Run(TimeSpan.FromSeconds(3));

        pair.Stall("n1", pair.Options.Lease + pair.Options.HeartbeatInterval); // a stall longer than the lease: it lapses
        var first = pair.Run(pair.Options.HeartbeatInterval);

        Assert.IsTrue(first.Where(s => s.From == "n1").All(s => !s.Quiet), "a node that resynchronizes its lease needs its peers' answers");
        var later = pair.Run(TimeSpan.FromSeconds(1));
        Assert.IsTrue(later.Any(s => s.From == "n1" && s.Quiet), "quiet again once the lease is back");
        Assert.IsTrue(pair.N1.Manager.LeaseExpiry > pair.Now);
    }

    [TestMethod]
    public void SendHeartbeats_PeerStopsAnswering_EveryHeartbeatAsksAnAnswer()
    {
        var pair = new Pair(SplitBrainPolicy.None);
        pair.Run(TimeSpan.FromSeconds(3));

        pair.Unanswered = true; // n2 hears n1 and sends its own heartbeats, but answers nothing
        pair.Run(pair.Options.QuietSpan + pair.Options.HeartbeatInterval);
        var sent = pair.Run(TimeSpan.FromMilliseconds(200));

        Assert.IsTrue(sent.Where(s => s.From == "n1").All(s => !s.Quiet), "no answer within the quiet span: ask on every heartbeat");
    }

    /// <summary>Two nodes, n1 and n2, at the default timings under <paramref name="policy"/>.</summary>
    private sealed class Pair(SplitBrainPolicy policy)
    {
        private readonly Dictionary<string, TimeSpan> stalledUntil = [];

        public MembershipOptions Options { get; } = new() { ConfiguredNodes = ["n1", "n2"], SplitBrainPolicy = policy };

        public MembershipDriver N1 { get; } = Driver("n1", policy);

        public MembershipDriver N2 { get; } = Driver("n2", policy);

        public TimeSpan Now { get; private set; }

        /// <summary>n2 answers no heartbeat of n1.</summary>
        public bool Unanswered { get; set; }

        public void Stall(string node, TimeSpan length) => stalledUntil[node] = Now + length;

        /// <summary>Ticks both every interval for <paramref name="length"/>; returns the heartbeats sent meanwhile.</summary>
        public List<(string From, TimeSpan At, bool Quiet)> Run(TimeSpan length)
        {
            var sent = new List<(string, TimeSpan, bool)>();
            var end = Now + length;
            while (Now < end)
            {
                Now += Options.HeartbeatInterval;
                Tick("n1", N1, N2, sent);
                Tick("n2", N2, N1, sent);
            }

            return sent;
        }

        private static MembershipDriver Driver(string name, SplitBrainPolicy policy) =>
            new(new MembershipOptions { ConfiguredNodes = ["n1", "n2"], SplitBrainPolicy = policy }, new MemberInfo(name, 1, 100, 0, false, ["web"]), "cfg", Modules, TimeSpan.Zero);

        private void Tick(string name, MembershipDriver self, MembershipDriver peer, List<(string, TimeSpan, bool)> sent)
        {
            if (stalledUntil.TryGetValue(name, out var until) && Now < until)
            {
                return;
            }

            Deliver(name, self, peer, self.Tick(Now).Outbox, sent);
        }

        private void Deliver(string name, MembershipDriver self, MembershipDriver peer, IReadOnlyList<OutboundRequest> outbox, List<(string, TimeSpan, bool)> sent)
        {
            foreach (var request in outbox)
            {
                if (request.Message is HeartbeatRequest heartbeat)
                {
                    sent.Add((name, Now, heartbeat.Quiet));
                }

                var (reply, peerEffects) = peer.HandleRequest(name, request.Lan, request.Message, Now);
                Deliver(name == "n1" ? "n2" : "n1", peer, self, peerEffects.Outbox, sent);
                bool answered = request.Message is not HeartbeatRequest hb || (!hb.Quiet && !(Unanswered && name == "n1"));
                if (answered)
                {
                    Deliver(name, self, peer, self.HandleReply(request.CorrelationId, reply, Now).Outbox, sent);
                }
            }
        }
    }
}
