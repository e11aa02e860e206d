namespace Farm.Cluster.Tests;

[TestClass]
public sealed class MembershipConvergenceTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(3)]
    [DataRow(8)]
    [DataRow(64)]
    public void StartAll_HealthyNetwork_ConvergesToOneViewWithEveryNode(int nodes)
    {
        var sim = new SimCluster(nodes, SplitBrainPolicy.None, seed: 1000 + nodes) { CheckOnTicksOnly = nodes > 8 };
        sim.StartAll();

        bool converged = sim.RunUntilConverged(TimeSpan.FromSeconds(10), out var at);

        Assert.IsTrue(converged, sim.Describe());
        TestContext.WriteLine($"{nodes} nodes converged at {at.TotalMilliseconds} ms virtual time");
        var view = sim.Nodes[0].Manager!.Installed!;
        Assert.AreEqual(nodes, view.Members.Length);
        var table = view.Tables[SimCluster.Module];
        foreach (var node in sim.Nodes)
        {
            int count = table.CountOf(node.Name);
            Assert.IsTrue(count == 256 / nodes || count == (256 + nodes - 1) / nodes, $"{node.Name} owns {count}");
        }
    }

    [TestMethod]
    public void Start_PeerMadeContactButIsNotHeardYet_ListensUpToTheLongerGraceBeforeFormingAViewAlone()
    {
        // Two nodes that cannot hear each other; n02's transport authenticated a first-contact message from n01.
        var sim = new SimCluster(2, SplitBrainPolicy.None, seed: 3);
        sim.Invariants = new InvariantChecker(sim);
        sim.Block("n01", "n02");
        sim.Block("n02", "n01");
        sim.Start(sim["n01"], TimeSpan.Zero);
        sim.Start(sim["n02"], TimeSpan.Zero);
        sim["n02"].Manager!.NoteContact("n01");

        sim.RunFor(sim.Options.StartupGrace + (sim.Options.HeartbeatInterval * 4));
        Assert.IsNotNull(sim["n01"].Manager!.Installed, "without contact: a view of its own after the grace");
        Assert.IsNull(sim["n02"].Manager!.Installed, "contacted by an unheard peer: still listening");

        sim.RunUntil(sim.Options.StartupGraceLimit + (sim.Options.HeartbeatInterval * 4));
        Assert.IsNotNull(sim["n02"].Manager!.Installed, "the longer grace is bounded");
    }

    [TestMethod]
    [DataRow(3)]
    [DataRow(8)]
    public void Crash_OneNode_SurvivorsInstallViewWithoutItWithinDetectionPlusTwoIntervals(int nodes)
    {
        var sim = Converged(new SimCluster(nodes, SplitBrainPolicy.None, seed: 7 + nodes));
        sim.RunFor(TimeSpan.FromSeconds(1));

        var victim = sim.Nodes[nodes / 2];
        var crashAt = sim.Now;
        sim.Crash(victim.Name);
        sim.Invariants.NetworkChangedAt = sim.Now;
        sim.RunFor(sim.Options.DetectionTimeout + sim.Options.HeartbeatInterval * 2);

        foreach (var node in sim.Nodes.Where(n => n != victim))
        {
            var view = node.Manager!.Installed!;
            Assert.IsNull(view.Find(victim.Name), $"{node.Name} still lists {victim.Name} at {(sim.Now - crashAt).TotalMilliseconds} ms after the crash\n{sim.Describe()}");
            var install = sim.Installs.Last(i => i.Node == node.Name);
            TestContext.WriteLine($"{node.Name} installed {view.Id} {(install.At - crashAt).TotalMilliseconds} ms after the crash");
        }

        Assert.IsTrue(sim.IsConverged(), sim.Describe());
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(32)]
    public void Crash_OneOf64NodesAtDefaultTimings_EverySurvivorInstallsViewWithoutItWithinDetectionPlusTwoIntervals(int victimIndex)
    {
        // The scale goal of issue 17 (docs/performance.md, "Scale"): 64 nodes at the cluster file's timings, a host gone
        // silent (the coordinator, n01, or a member).
        var sim = Converged(new SimCluster(64, SplitBrainPolicy.None, seed: 6400 + victimIndex, heartbeat: new HeartbeatOptions())
        {
            CheckOnTicksOnly = true,
            PollInterval = TimeSpan.FromMilliseconds(5),
        });
        sim.RunFor(TimeSpan.FromSeconds(3));
        var victim = sim.Nodes[victimIndex];
        var crashAt = sim.Now;

        sim.Crash(victim.Name);
        sim.Invariants.NetworkChangedAt = sim.Now;
        sim.RunFor(sim.Options.DetectionTimeout + (sim.Options.HeartbeatInterval * 2));

        foreach (var node in sim.Nodes.Where(n => n != victim))
        {
            Assert.IsNull(node.Manager!.Installed!.Find(victim.Name), $"{node.Name} still lists {victim.Name} {(sim.Now - crashAt).TotalMilliseconds} ms after the crash\n{sim.Describe()}");
        }

        Assert.IsTrue(sim.IsConverged(), sim.Describe());
    }

    [TestMethod]
    [DataRow(3, 0)]
    [DataRow(3, 2)]
    [DataRow(8, 0)]
    [DataRow(8, 5)]
    public void Crash_ProcessGoneHostUp_SurvivorsTakeItsBucketsWithinTwoIntervalsNotTheDetectionTimeout(int nodes, int victimIndex)
    {
        var sim = Converged(new SimCluster(nodes, SplitBrainPolicy.None, seed: 31 + nodes + victimIndex) { PollInterval = TimeSpan.FromMilliseconds(5) });
        sim.RunFor(TimeSpan.FromSeconds(1));
        var victim = sim.Nodes[victimIndex];
        var crashAt = sim.Now;

        // kill -9 of the daemon alone: the survivors' connections break and its port refuses within a round trip.
        sim.Crash(victim.Name, processGone: true, noticeAfter: TimeSpan.FromMilliseconds(2));
        sim.RunFor(sim.Options.HeartbeatInterval * 2);

        var survivors = sim.Nodes.Where(n => n != victim).ToList();
        foreach (var node in survivors)
        {
            Assert.IsNull(node.Manager!.Installed!.Find(victim.Name), $"{node.Name} still lists {victim.Name} {(sim.Now - crashAt).TotalMilliseconds} ms after the crash\n{sim.Describe()}");
        }

        // Every bucket takes new connections on some survivor (the invariants held all along: no double acceptance).
        int accepted = Enumerable.Range(0, 256).Count(b => survivors.Any(n => n.Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now)));
        Assert.AreEqual(256, accepted, sim.Describe());
        var last = sim.Installs.Where(i => i.Node != victim.Name).Max(i => i.At) - crashAt;
        TestContext.WriteLine($"{victim.Name} crashed; last survivor installed the view without it {last.TotalMilliseconds} ms later");
        Assert.IsLessThan(sim.Options.HeartbeatInterval, last, "a member that noticed later must not hold the view change up to its detection timeout");
    }

    [TestMethod]
    [DataRow(3)]
    [DataRow(8)]
    public void Crash_CoordinatorGoneItsSuccessorsConnectionSlowToBreak_TakenOverWhenAnyMemberSeesIt(int nodes)
    {
        // kill -9 of the coordinator's farmd: a killed process's connections close only once its memory is torn down,
        // and one peer's may break 100 ms and more after another's (measured, docs/performance.md). Here the next
        // coordinator's never does: it must learn from the member that saw the death (its heartbeats name the dead
        // process) and probe the port itself, instead of waiting for the detection timeout.
        var sim = Converged(new SimCluster(nodes, SplitBrainPolicy.None, seed: 41 + nodes) { PollInterval = TimeSpan.FromMilliseconds(5) });
        sim.RunFor(TimeSpan.FromSeconds(1));
        var victim = sim.Nodes[0];
        var successor = sim.Nodes[1];
        Assert.AreEqual(victim.Name, sim[successor.Name].Manager!.Installed!.Id.Coordinator, "the victim coordinates");
        var crashAt = sim.Now;

        sim.Crash(victim.Name, processGone: true, noticeAfter: TimeSpan.FromMilliseconds(2), noticeOf: new Dictionary<string, TimeSpan> { [successor.Name] = TimeSpan.MaxValue });
        sim.RunFor(sim.Options.HeartbeatInterval * 2);

        var survivors = sim.Nodes.Where(n => n != victim).ToList();
        foreach (var node in survivors)
        {
            Assert.IsNull(node.Manager!.Installed!.Find(victim.Name), $"{node.Name} still lists {victim.Name} {(sim.Now - crashAt).TotalMilliseconds} ms after the crash\n{sim.Describe()}");
        }

        var last = sim.Installs.Where(i => i.Node != victim.Name).Max(i => i.At) - crashAt;
        TestContext.WriteLine($"{victim.Name} (coordinator) crashed; last survivor installed the view without it {last.TotalMilliseconds} ms later");
        Assert.IsLessThan(sim.Options.HeartbeatInterval, last, "the successor learns from the first member that saw the death, not from its detection timeout");
    }

    [TestMethod]
    public void NotePeerGone_PeerStillHeardByOthers_NoViewChangeAndItsNextMessageClearsIt()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 5));
        var before = sim["n01"].Manager!.Installed!.Id;

        // A wrong death notice at the coordinator (a refusal on every LAN, yet n03 lives): n02 still hears n03 and
        // refuses a view without it; n03's next heartbeat makes it reachable again.
        Assert.IsTrue(sim["n01"].Manager!.NotePeerGone("n03", 0, sim.Now));
        Assert.IsFalse(Reachable(sim["n01"], "n03", sim.Now));
        sim.RunFor(sim.Options.HeartbeatInterval * 3);

        Assert.IsTrue(Reachable(sim["n01"], "n03", sim.Now), "heard again");
        Assert.AreEqual(before, sim["n01"].Manager!.Installed!.Id, sim.Describe());
        Assert.IsTrue(sim.IsConverged(), sim.Describe());
    }

    [TestMethod]
    public void WeightFlapsFasterThanARoundTrip_EveryProposalCommitsAndTheLastWeightWins()
    {
        // Round trips up to 120 ms, a weight that changes with every heartbeat (100 ms): a coordinator that dropped its
        // proposal whenever what a member says changed would rarely commit one, and each dropped one leaves its promises.
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 21));
        sim.MaxDelay = TimeSpan.FromMilliseconds(60);
        var prepared = new HashSet<ViewId>();
        var committed = new HashSet<ViewId>();
        sim.Sent = (_, request) =>
        {
            switch (request.Message)
            {
                case PrepareRequest p:
                    prepared.Add(p.Id);
                    break;
                case CommitRequest c:
                    committed.Add(c.Id);
                    break;
            }
        };

        for (int i = 0; i < 30; i++)
        {
            sim.SetWeight("n03", i % 2 == 0 ? 60 : 100);
            sim.RunFor(sim.Options.HeartbeatInterval);
        }

        sim.SetWeight("n03", 70);
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(5), out _), sim.Describe());
        Assert.IsGreaterThan(5, prepared.Count, "the weight changes made views");
        CollectionAssert.AreEquivalent(prepared.ToList(), committed.ToList(), "every view prepared was committed");
        Assert.AreEqual(70, sim["n01"].Manager!.Installed!.Find("n03")!.Weight, sim.Describe());
    }

    [TestMethod]
    public void Crash_Coordinator_SurvivorsKeepServingTheirOwnBucketsThroughout()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 99));
        var before = sim["n02"].Manager!.Ownership.Modules[SimCluster.Module].BucketsIn(BucketState.Owned);

        sim.Crash("n01"); // the lowest name: the coordinator
        var end = sim.Now + TimeSpan.FromSeconds(3);
        while (sim.Now < end)
        {
            sim.RunFor(TimeSpan.FromMilliseconds(10));
            foreach (int b in before)
            {
                Assert.IsTrue(sim["n02"].Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now), $"n02 stopped accepting its bucket {b} at {sim.Now}");
            }
        }

        Assert.IsTrue(sim.IsConverged(), sim.Describe());
    }

    [TestMethod]
    public void Restart_CrashedNode_ItsShareMovesOnlyOnceItHoldsALeaseSoNoBucketGoesDarkLonger()
    {
        var sim = RestartedAfterCrash(seed: 7);

        AssertNoBucketDarkLongerThanAHandOver(sim, "n03");
    }

    [TestMethod]
    public void Pause_NodeRemovedThenResumes_ItsShareMovesBackOnlyOnceItHoldsALeaseAgain()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 7));
        sim.Pause("n03", TimeSpan.FromSeconds(3)); // well past the detection timeout: the others remove it
        sim.RunFor(TimeSpan.FromSeconds(2));
        Assert.IsTrue(sim.IsConverged(), sim.Describe());
        Assert.IsNull(sim.Nodes[0].Manager!.Installed!.Find("n03"), "n03 was removed while paused");

        AssertNoBucketDarkLongerThanAHandOver(sim, "n03");
    }

    [TestMethod]
    [DataRow(2300)]
    [DataRow(2340)] // the three rows below failed before (a bucket dark for 37-42 ms)
    [DataRow(2370)]
    [DataRow(2390)]
    public void Pause_CoordinatorResumesWithStaleNewsOfANodeWhoseLeaseLapsed_NoShareGoesToANodeWithoutALease(int healMs)
    {
        // Chaos soak, 2026-12-05: node0 (the coordinator) was stopped for 2.4 s; meanwhile node3's link went down long
        // enough for its lease to lapse and came back. node0 resumed with node3's heartbeats from before the link went down
        // in its sockets ("ready"), proposed a view on them and gave node3 a share it could not serve for lack of a lease.
        var sim = Converged(new SimCluster(5, SplitBrainPolicy.Majority, seed: 21, heartbeat: new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) }) { PollInterval = TimeSpan.FromMilliseconds(5) });
        string[] others = ["n01", "n02", "n03", "n05"];
        sim.Pause("n01", TimeSpan.FromMilliseconds(2400));
        sim.RunFor(TimeSpan.FromMilliseconds(600));
        sim.Partition(["n04"], others);
        sim.RunFor(TimeSpan.FromMilliseconds(healMs - 600));
        sim.HealNetwork();
        sim.Block("n04", "n01"); // what n04 sends n01 now waits behind the stall (a TCP connection n04 gave up on)
        sim.RunFor(TimeSpan.FromMilliseconds(2400 - healMs));
        Assert.AreEqual(SimNodeState.Up, sim["n01"].State);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.HealNetwork();

        AssertNoBucketDarkLongerThanAHandOver(sim, "n01", share: 51);
    }

    [TestMethod]
    [DataRow(330)]
    [DataRow(400)]
    [DataRow(600)]
    public void Pause_NodeResumesTickingBeforeItReadsItsSockets_FormsNoViewAloneAndNobodyElseRejoins(int pauseMs)
    {
        // CI dry run, 2026-12-05 (RebalanceTests): a newcomer's process stalled for ~400 ms under load, its heartbeat
        // thread ran before the threads that read its sockets, found every peer silent for longer than the detection
        // timeout and, under policy none, formed a view of its own. That view, of a higher id than the farm's, became the
        // base of the next: the three nodes that never left counted a rejoin and deleted the conntrack entries of every
        // bucket they served (492 of 600 sessions reset).
        var sim = Converged(new SimCluster(4, SplitBrainPolicy.None, seed: 31, heartbeat: new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) }) { PollInterval = TimeSpan.FromMilliseconds(5) });
        sim.Pause("n04", TimeSpan.FromMilliseconds(pauseMs), tickFirst: true);
        bool alone = false;
        var until = sim.Now + TimeSpan.FromSeconds(3);
        while (sim.Now < until)
        {
            sim.RunFor(TimeSpan.FromMilliseconds(1));
            alone |= sim["n04"].Manager!.Installed is { Members.Length: 1 };
        }

        Assert.IsTrue(sim.IsConverged(), sim.Describe());
        Assert.IsFalse(alone, "n04 installed a view of its own after its stall\n" + sim.Describe());
        foreach (var node in new[] { "n01", "n02", "n03" })
        {
            Assert.AreEqual(0, sim[node].Manager!.Ownership.RejoinClaims, $"{node} counted a rejoin\n{sim.Describe()}");
        }
    }

    [TestMethod]
    [DataRow(200)]
    [DataRow(600)]
    [DataRow(1500)]
    public void Starve_NodesReadersStallWhileItsHeartbeatThreadTicks_FormsNoViewAloneAndTheOthersKeepTheirBuckets(int starveMs)
    {
        // CI, 2026-12-05 (RebalanceTests): right after it joined, a farmd's thread pool got no CPU while its real-time
        // heartbeat thread ticked on. It read nothing and sent nothing, found every peer silent past the detection timeout
        // and, under policy none, formed a view of its own: its kernel claimed every bucket and reset 297 of 600 sessions.
        // Its probe of its readers (farmd: ThreadPoolReaderProbe) counts that time as its own stall.
        var sim = Converged(new SimCluster(4, SplitBrainPolicy.None, seed: 37, heartbeat: new() { Interval = TimeSpan.FromMilliseconds(50), DetectionTimeout = TimeSpan.FromMilliseconds(300), Lease = TimeSpan.FromMilliseconds(150) }) { PollInterval = TimeSpan.FromMilliseconds(5) });
        sim.Starve("n04", TimeSpan.FromMilliseconds(starveMs));
        bool alone = false;
        bool removed = false;
        var until = sim.Now + TimeSpan.FromSeconds(4);
        while (sim.Now < until)
        {
            sim.RunFor(TimeSpan.FromMilliseconds(1));
            alone |= sim["n04"].Manager!.Installed is { } own && own.Members.All(m => m.Name == "n04");
            removed |= sim["n01"].Manager!.Installed is { } view && view.Find("n04") is null;
        }

        Assert.IsTrue(sim.IsConverged(), sim.Describe());
        Assert.IsFalse(alone, "n04 installed a view of its own while or after its readers stalled\n" + sim.Describe());
        Assert.AreEqual(starveMs > 300, removed, $"the others remove n04 when its silence outlasts the detection timeout\n{sim.Describe()}");
        foreach (var node in new[] { "n01", "n02", "n03" })
        {
            Assert.AreEqual(0, sim[node].Manager!.Ownership.RejoinClaims, $"{node} counted a rejoin\n{sim.Describe()}");
        }
    }

    /// <summary>
    /// From now until <paramref name="node"/> has its share again and the farm is one: the longest time any bucket had no
    /// node taking new flows must be a hand-over's, from the old owner's promise to the new owner's commit (two message
    /// delays and the 1 ms sampling). Were the share given before <paramref name="node"/> holds a lease, the bucket would
    /// stay dark until its next tick after its peers confirmed it (10 ms and more here; 50-150 ms measured with farmd).
    /// </summary>
    private void AssertNoBucketDarkLongerThanAHandOver(SimCluster sim, string node, int share = 85)
    {
        var darkSince = new TimeSpan?[256];
        var longest = TimeSpan.Zero;
        bool sharedOut = false;
        var until = sim.Now + TimeSpan.FromSeconds(8);
        while (sim.Now < until && !(sharedOut && sim.IsConverged()))
        {
            sim.RunFor(TimeSpan.FromMilliseconds(1));
            for (int b = 0; b < darkSince.Length; b++)
            {
                bool served = sim.Nodes.Any(n => n.Manager is not null && n.Manager.AcceptsNewFlows(SimCluster.Module, b, sim.Now));
                darkSince[b] = served ? null : darkSince[b] ?? sim.Now;
                longest = darkSince[b] is { } since && sim.Now - since > longest ? sim.Now - since : longest;
            }

            sharedOut = sim.Nodes[0].Manager!.Installed?.Tables[SimCluster.Module].CountOf(node) >= share;
        }

        Assert.IsTrue(sharedOut && sim.IsConverged(), sim.Describe());
        TestContext.WriteLine($"longest dark bucket: {longest.TotalMilliseconds} ms");
        Assert.IsTrue(longest <= (2 * sim.MaxDelay) + TimeSpan.FromMilliseconds(1), $"a bucket was dark for {longest.TotalMilliseconds} ms");
    }

    [TestMethod]
    public void Restart_CrashedNode_RejoinsWithNewIncarnationAndGetsItsShare()
    {
        var sim = RestartedAfterCrash(seed: 5);
        sim.Invariants.NetworkChangedAt = sim.Now;

        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(5), out _), sim.Describe());
        var member = sim.Nodes[0].Manager!.Installed!.Find("n03")!;
        Assert.AreEqual(2, member.Incarnation);
        Assert.IsTrue(sim.Nodes[0].Manager!.Installed!.Tables[SimCluster.Module].CountOf("n03") >= 85);
    }

    [TestMethod]
    public void Pause_LongerThanDetection_NodeLosesTrafficBeforePeersTakeItAndRejoinsAfter()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 11));

        sim.Pause("n02", TimeSpan.FromSeconds(3));
        sim.Invariants.NetworkChangedAt = sim.Now;
        sim.RunFor(TimeSpan.FromSeconds(2));
        Assert.IsNull(sim["n01"].Manager!.Installed!.Find("n02"), sim.Describe());
        sim.RunFor(TimeSpan.FromSeconds(1.1)); // n02 resumes
        Assert.AreEqual(SimNodeState.Up, sim["n02"].State);

        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(5), out _), sim.Describe());
        Assert.IsNotNull(sim["n01"].Manager!.Installed!.Find("n02"), sim.Describe());
    }

    [TestMethod]
    public void ConfigMismatch_NodeWithOtherHash_IsNotAdmittedAndMismatchIsReported()
    {
        var sim = new SimCluster(3, SplitBrainPolicy.None, seed: 3)
        {
            ConfigHashOf = name => name == "n03" ? "cfg-other" : "cfg-1",
        };
        sim.StartAll();
        sim.RunFor(TimeSpan.FromSeconds(4));

        var view = sim["n01"].Manager!.Installed!;
        CollectionAssert.AreEquivalent(new[] { "n01", "n02" }, view.Members.Select(m => m.Name).ToArray());
        Assert.AreEqual("cfg-other", sim["n01"].Manager!.ConfigMismatches["n03"]);
        Assert.AreEqual("cfg-1", sim["n03"].Manager!.ConfigMismatches["n01"]);
    }

    [TestMethod]
    public void Partition_MajorityPolicy_MinoritySideStopsServingAndMajorityTakesAll()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.Majority, seed: 21));

        sim.Partition(["n03"], ["n01", "n02"]);
        sim.RunFor(TimeSpan.FromSeconds(3));

        var minority = sim["n03"].Manager!;
        Assert.IsTrue(Enumerable.Range(0, 256).All(b => !minority.AcceptsNewFlows(SimCluster.Module, b, sim.Now)), sim.Describe());
        for (int b = 0; b < 256; b++)
        {
            Assert.AreEqual(1, sim.Nodes.Count(n => n.Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now)), $"bucket {b}\n{sim.Describe()}");
        }

        HealAndConverge(sim);
    }

    [TestMethod]
    public void Partition_NonePolicy_EachSideServesEverythingThenMerges()
    {
        var sim = Converged(new SimCluster(4, SplitBrainPolicy.None, seed: 31));

        sim.Partition(["n01", "n02"], ["n03", "n04"]);
        sim.RunFor(TimeSpan.FromSeconds(3));
        for (int b = 0; b < 256; b++)
        {
            Assert.AreEqual(1, sim.Nodes.Take(2).Count(n => n.Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now)), $"side A, bucket {b}");
            Assert.AreEqual(1, sim.Nodes.Skip(2).Count(n => n.Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now)), $"side B, bucket {b}");
        }

        HealAndConverge(sim);
    }

    [TestMethod]
    [DataRow(31)]
    [DataRow(32)]
    [DataRow(33)]
    public void Partition_NonePolicyOneNodeCutOff_MergeBuildsOnTheLargerSidesView(int seed)
    {
        // Under policy none a node cut off forms a view alone, and its id may be the higher one. Were the merged view built
        // on it, the three nodes of the other side would claim every bucket as after a rejoin, delete the conntrack
        // entries of all they serve and reset their sessions, and the tables would derive from the lone node's.
        var sim = Converged(new SimCluster(4, SplitBrainPolicy.None, seed: seed));

        sim.Partition(["n01", "n02", "n03"], ["n04"]);
        sim.RunFor(TimeSpan.FromSeconds(3));
        var larger = sim["n01"].Manager!.Installed!;
        Assert.AreEqual(3, larger.Members.Length, sim.Describe());
        Assert.AreEqual(1, sim["n04"].Manager!.Installed!.Members.Length, sim.Describe());

        HealAndConverge(sim);

        foreach (var node in new[] { "n01", "n02", "n03" })
        {
            Assert.AreEqual(0, sim[node].Manager!.Ownership.RejoinClaims, $"{node} counted a rejoin\n{sim.Describe()}");
            int kept = Enumerable.Range(0, 256).Count(b => larger.Tables[SimCluster.Module].OwnerOf(b) == node && sim[node].Manager!.Installed!.Tables[SimCluster.Module].OwnerOf(b) == node);
            Assert.IsTrue(kept >= 60, $"{node} kept {kept} of its buckets\n{sim.Describe()}");
        }

        Assert.IsTrue(sim["n04"].Manager!.Ownership.RejoinClaims >= 1, "the lone node served on alone: it rejoins");
    }

    [TestMethod]
    public void Partition_WitnessPolicy_OnlyTheSideReachingTheWitnessServes()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.Witness, seed: 41));

        // n01 keeps the witness; n02 and n03 lose it and are cut from n01.
        sim.Partition(["n01"], ["n02", "n03"]);
        sim.Block("n02", "witness");
        sim.Block("n03", "witness");
        sim.RunFor(TimeSpan.FromSeconds(3));

        for (int b = 0; b < 256; b++)
        {
            Assert.IsTrue(sim["n01"].Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now), $"n01 must serve bucket {b}\n{sim.Describe()}");
            Assert.IsFalse(sim["n02"].Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now), $"n02 must not serve bucket {b}");
            Assert.IsFalse(sim["n03"].Manager!.AcceptsNewFlows(SimCluster.Module, b, sim.Now), $"n03 must not serve bucket {b}");
        }

        HealAndConverge(sim);
    }

    [TestMethod]
    public void Crash_MembersShareTheBaseView_PreparesCarryOnlyEpochAndMembers()
    {
        var sim = Converged(new SimCluster(4, SplitBrainPolicy.None, seed: 61));
        var prepares = new List<Membership.PrepareRequest>();
        sim.Sent = (_, request) =>
        {
            if (request.Message is Membership.PrepareRequest p)
            {
                prepares.Add(p);
            }
        };

        sim.Crash("n04");
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(3), out _), sim.Describe());

        Assert.IsTrue(prepares.Count > 0);
        Assert.IsTrue(prepares.All(p => p.BaseTables is null), "a view change among members that hold the base view sent tables");
    }

    [TestMethod]
    public void Restart_NewcomerLacksTheBase_ReceivesBaseTablesAndComputesTheSameTable()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 62));
        var withTables = new List<string>();
        sim.Sent = (_, request) =>
        {
            if (request.Message is Membership.PrepareRequest { BaseTables: not null })
            {
                withTables.Add(request.To);
            }
        };

        sim.Crash("n03");
        sim.RunFor(TimeSpan.FromSeconds(2));
        sim.Restart("n03");
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(5), out _), sim.Describe());

        CollectionAssert.AreEqual(new[] { "n03" }, withTables.Distinct().ToArray());
        var tables = sim.Nodes.Select(n => n.Manager!.Installed!.Tables[SimCluster.Module]).ToList();
        Assert.IsTrue(tables.All(t => t.Equals(tables[0])), "nodes installed different tables for one view");
    }

    [TestMethod]
    public void SetWeight_DoubleOneNode_MovesOnlyTheDifferenceWithoutDoubleAcceptance()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 63));
        var before = sim["n01"].Manager!.Installed!.Tables[SimCluster.Module];

        sim.SetWeight("n02", 200);
        sim.RunFor(TimeSpan.FromSeconds(1)); // heartbeats carry the new weight; the coordinator proposes
        Assert.IsTrue(sim.IsConverged(), sim.Describe());

        var after = sim["n01"].Manager!.Installed!.Tables[SimCluster.Module];
        Assert.AreEqual(128, after.CountOf("n02"));
        int moved = before.Diff(after).Length;
        Assert.AreEqual(after.CountOf("n02") - before.CountOf("n02"), moved, "only n02's gain may move");
        Assert.IsTrue(sim.Invariants.Checks > 0);
    }

    [TestMethod]
    public void LanDown_OneOfTwoHeartbeatLans_NoViewChangeAndEveryBucketServed()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 71, lanCount: 2));
        var view = sim["n01"].Manager!.Installed!.Id;

        sim.SetLanDown(0);
        sim.RunFor(TimeSpan.FromSeconds(5));

        Assert.IsTrue(sim.Nodes.All(n => n.Manager!.Installed!.Id == view), "losing one LAN changed the view\n" + sim.Describe());
        Assert.IsTrue(sim.IsConverged(), sim.Describe());
        Assert.IsTrue(sim.Now - LastHeard(sim["n01"], "n02", 0) > TimeSpan.FromSeconds(4), "LAN 0 should be silent");
        Assert.IsTrue(sim.Now - LastHeard(sim["n01"], "n02", 1) < TimeSpan.FromMilliseconds(300), "LAN 1 should carry the heartbeats");

        sim.SetLanDown(1); // now no LAN at all: each node is alone (policy none: each serves everything)
        sim.RunFor(TimeSpan.FromSeconds(3));
        Assert.IsTrue(sim.Nodes.All(n => n.Manager!.Installed!.Members.Length == 1), sim.Describe());
    }

    [TestMethod]
    public void Crash_WithPollingBetweenTicks_SurvivorsAgreeWithinDetectionTimeoutPlusFewMilliseconds()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 81) { PollInterval = TimeSpan.FromMilliseconds(5) });
        sim.RunFor(TimeSpan.FromMilliseconds(537)); // an arbitrary phase against the heartbeat ticks

        var crashAt = sim.Now;
        sim.Crash("n03");
        sim.Invariants.NetworkChangedAt = sim.Now;
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(3), out var at), sim.Describe());

        // Detection counts from the last message heard (at most one interval before the crash); polling adds <= 5 ms.
        var took = at - crashAt;
        TestContext.WriteLine($"survivors agreed {took.TotalMilliseconds} ms after the crash");
        Assert.IsTrue(took <= sim.Options.DetectionTimeout + TimeSpan.FromMilliseconds(30), $"took {took.TotalMilliseconds} ms\n{sim.Describe()}");
    }

    [TestMethod]
    public void StartAll_FirstViewOfANewFarm_BucketsAreOwnedNotIncoming()
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: 91));

        foreach (var node in sim.Nodes)
        {
            var ownership = node.Manager!.Ownership.Modules[SimCluster.Module];
            Assert.AreEqual(0, ownership.Incoming, $"{node.Name}: nobody held a bucket before the first view");
            Assert.IsTrue(ownership.Owned > 80);
        }
    }

    /// <summary>Starts every node and asserts the view converges within 10 s of simulated time.</summary>
    private static bool Reachable(SimNode node, string peer, TimeSpan now) => node.Manager!.PeerStatuses(now).Single(p => p.Name == peer).Reachable;

    private static TimeSpan LastHeard(SimNode node, string peer, int lan) => node.Manager!.PeerStatuses(TimeSpan.Zero).Single(p => p.Name == peer).LastHeardPerLan[lan]!.Value;

    private static SimCluster Converged(SimCluster sim)
    {
        sim.StartAll();
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        return sim;
    }

    /// <summary>
    /// A converged farm of three (policy none) whose n03 crashed, asserts the other two converge without it within 2 s,
    /// and restarts n03.
    /// </summary>
    private static SimCluster RestartedAfterCrash(int seed)
    {
        var sim = Converged(new SimCluster(3, SplitBrainPolicy.None, seed: seed));
        sim.Crash("n03");
        sim.RunFor(TimeSpan.FromSeconds(2));
        Assert.IsTrue(sim.IsConverged(), sim.Describe());

        sim.Restart("n03");
        return sim;
    }

    /// <summary>Ends every partition and asserts the cluster converges again within 5 s.</summary>
    private static void HealAndConverge(SimCluster sim)
    {
        sim.HealNetwork();
        sim.Invariants.NetworkChangedAt = sim.Now;
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(5), out _), sim.Describe());
    }
}
