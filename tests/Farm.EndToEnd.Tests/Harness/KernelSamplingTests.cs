using Farm.Testing.Nftables;

namespace Farm.EndToEnd.Tests.Harness;

/// <summary>The pure parts of the kernel sampling that the partition tests and the chaos soak rely on.</summary>
[TestClass]
public sealed class KernelSamplingTests
{
    private const string Listing = """
        table inet farm_web {
        	set lease4 {
        		type ipv4_addr
        		flags timeout
        		elements = { 198.18.0.100 timeout 148ms expires 116ms }
        	}

        	set lease6 {
        		type ipv6_addr
        		flags timeout
        		elements = { 2001:db8::100 timeout 1s500ms expires 1s468ms }
        	}

        	set owned {
        		type mark
        		flags interval
        		elements = { 0x00000001-0x00000003, 0x00000009,
        			     0x00000100/30 }
        	}

        	set incoming {
        		type mark
        		flags interval
        		elements = { 0x0000000b }
        	}

        	set draining {
        		type mark
        		flags interval
        		elements = { 0x0000000c }
        	}

        	set claimed {
        		type mark
        		flags interval
        	}

        	chain buckets {
        		meta mark @owned meta mark set 0 accept
        	}
        }
        """;

    [TestMethod]
    public void ParseText_FarmTableListing_ReadsRangesPrefixesAndTheLongestLease()
    {
        var table = FilterTableState.ParseText(Listing);

        CollectionAssert.AreEquivalent(new[] { 1, 2, 3, 9, 256, 257, 258, 259 }, table.Owned.ToArray());
        CollectionAssert.AreEquivalent(new[] { 11 }, table.Incoming.ToArray());
        CollectionAssert.AreEquivalent(new[] { 12 }, table.Draining.ToArray());
        Assert.IsEmpty(table.Claimed);
        Assert.AreEqual(2, table.LeaseElements);
        Assert.AreEqual(TimeSpan.FromMilliseconds(1468), table.LeaseExpiresIn);
        Assert.IsFalse(table.AcceptingNewFlows.Contains(12), "a draining bucket takes no new flow");
    }

    [TestMethod]
    public void ParseText_LeaseSetsEmpty_HasNoLease()
    {
        var table = FilterTableState.ParseText(Listing.Replace("elements = { 198.18.0.100 timeout 148ms expires 116ms }", string.Empty)
            .Replace("elements = { 2001:db8::100 timeout 1s500ms expires 1s468ms }", string.Empty));

        Assert.IsFalse(table.HasLease);
        Assert.IsNull(table.LeaseExpiresIn);
        Assert.HasCount(8, table.Owned);
    }

    [TestMethod]
    public void Add_TwoNodesAcceptOneBucketOverTwoRounds_OneDefiniteOverlap()
    {
        var checker = new AcceptorOverlapChecker(4);
        checker.Add(Round(0, 0, [0, 1], [1]));
        checker.Add(Round(1, 10, [0, 1], [1]));
        checker.Add(Round(2, 20, [0, 1], [1]));

        var overlap = checker.Overlaps.Single();
        Assert.IsTrue(overlap.Definite);
        Assert.AreEqual((1, 0, 1), (overlap.Bucket, overlap.First, overlap.Second));
    }

    [TestMethod]
    public void Add_HandOverBetweenTwoReadsOfOneRound_OnlyPossible()
    {
        // Round 1: node0 read first (still has bucket 1), node1 read a millisecond later (already has it); node0 gave it up.
        var checker = new AcceptorOverlapChecker(4);
        checker.Add(Round(0, 0, [0, 1], []));
        checker.Add(Round(1, 10, [0, 1], [1]));
        checker.Add(Round(2, 20, [0], [1]));
        checker.Add(Round(3, 30, [0], [1]));

        Assert.IsFalse(checker.Overlaps.Any(o => o.Definite), string.Join("\n", checker.Overlaps));
        Assert.AreEqual(1, checker.Overlaps.Count(o => !o.Definite));
    }

    [TestMethod]
    public void Add_ReadsOfOneNodeFurtherApartThanMaxSpan_NoDefiniteOverlapAcrossTheGap()
    {
        // node0 accepts bucket 1 at 0 ms and at 200 ms (a late sampler); node1 accepted it at 101 ms only. node0 may have
        // let go in between, so this proves nothing.
        var checker = new AcceptorOverlapChecker(4);
        checker.Add(new KernelRound(0, [Read(0, 0, [1]), Read(1, 1, [])]));
        checker.Add(new KernelRound(1, [Read(0, 100, []), Read(1, 101, [1])]));
        checker.Add(new KernelRound(2, [Read(0, 200, [1]), Read(1, 201, [])]));
        var spanning = new AcceptorOverlapChecker(4, TimeSpan.FromMilliseconds(500));
        spanning.Add(new KernelRound(0, [Read(0, 0, [1]), Read(1, 1, [])]));
        spanning.Add(new KernelRound(1, [Read(0, 200, [1]), Read(1, 101, [1])]));

        Assert.IsFalse(checker.Overlaps.Any(o => o.Definite), string.Join("\n", checker.Overlaps));
        Assert.IsTrue(spanning.Overlaps.Single().Definite, "within the span the same reads prove an overlap");

        static KernelRead Read(int node, int ms, int[] accepting) =>
            new(node, TimeSpan.FromMilliseconds(ms), TimeSpan.FromMilliseconds(ms), accepting.ToHashSet(), TimeSpan.FromMilliseconds(ms + 150), true, null);
    }

    [TestMethod]
    public void Add_SlowSamplerAndSharedBucketsEveryRound_KeepsTheFirstThousandPossibleOverlapsAndCountsAll()
    {
        // Rounds 200 ms apart (beyond the span limit) in which both nodes accept all 16 buckets: every round evaluated
        // (the second to the last but one: 98) adds 16 possible overlaps; a soak's memory must not follow.
        var checker = new AcceptorOverlapChecker(16);
        int[] all = [.. Enumerable.Range(0, 16)];
        for (int r = 0; r < 100; r++)
        {
            checker.Add(new KernelRound(r, [Read(0, r * 200, all), Read(1, (r * 200) + 1, all)]));
        }

        Assert.AreEqual(98 * 16, checker.PossibleCount);
        Assert.HasCount(AcceptorOverlapChecker.MaxKeptPossible, checker.Overlaps);
        Assert.IsFalse(checker.Overlaps.Any(o => o.Definite));

        static KernelRead Read(int node, int ms, int[] accepting) =>
            new(node, TimeSpan.FromMilliseconds(ms), TimeSpan.FromMilliseconds(ms), accepting.ToHashSet(), TimeSpan.FromMilliseconds(ms + 150), true, null);
    }

    [TestMethod]
    public void Add_OneNodeWithoutLease_NoOverlap()
    {
        var checker = new AcceptorOverlapChecker(4);
        for (int r = 0; r < 3; r++)
        {
            checker.Add(Round(r, r * 10, [0, 1], [1], secondLeased: false));
        }

        Assert.IsEmpty(checker.Overlaps);
    }

    [TestMethod]
    public void Describe_NodeReadLateWithoutLease_DatesTheRoundFromItsFirstListingAndNamesTheDarkBuckets()
    {
        // node1's read started at 12 ms and returned at 95 ms (the sampler held up): the round's misses date from 10 ms.
        var round = new KernelRound(7,
        [
            new KernelRead(0, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(11), new HashSet<int> { 0, 1 }, TimeSpan.FromMilliseconds(160), true, null),
            new KernelRead(1, TimeSpan.FromMilliseconds(12), TimeSpan.FromMilliseconds(95), new HashSet<int> { 2, 3 }, null, true, null),
        ]);

        Assert.AreEqual(TimeSpan.FromMilliseconds(10), round.From);
        Assert.AreEqual(TimeSpan.FromMilliseconds(95), round.At);
        Assert.AreEqual(2, round.Uncovered([0, 1], 4));
        Assert.AreEqual(
            "buckets 2,3 had none (node0 read 5-6 ms: lease to 155 ms, 2 accepted, node1 read 7-90 ms: no lease, 2 accepted)",
            round.Describe(4, TimeSpan.FromMilliseconds(5)));
    }

    [TestMethod]
    public void Script_PartitionAndLoss_DropsBothWaysAndAtRandomAndCounts()
    {
        string script = new FaultRules
        {
            Blocked = new HashSet<IPAddress> { IPAddress.Parse("198.18.0.2"), IPAddress.Parse("198.19.0.2") },
            LossySources = [new IPNetwork(IPAddress.Parse("198.18.0.3"), 32)],
        }.Script();

        StringAssert.Contains(script, "ip saddr { 198.18.0.2, 198.19.0.2 } counter drop");
        StringAssert.Contains(script, "ip daddr { 198.18.0.2, 198.19.0.2 } counter drop");
        StringAssert.Contains(script, "ip saddr 198.18.0.3/32 numgen random mod 100 < 20 counter drop");
        Assert.AreEqual($"add table inet {FaultRules.Table}\ndelete table inet {FaultRules.Table}\n", new FaultRules().Script());
        Assert.AreEqual(12L, FaultRules.DroppedPackets("ip saddr { 1.2.3.4 } counter packets 5 bytes 300 drop\n ip daddr { 1.2.3.4 } counter packets 7 bytes 420 drop"));
    }

    /// <summary>A round of two nodes read 1 ms apart at <paramref name="ms"/>.</summary>
    private static KernelRound Round(long number, int ms, int[] first, int[] second, bool secondLeased = true)
    {
        var at = TimeSpan.FromMilliseconds(ms);
        return new KernelRound(number,
        [
            new KernelRead(0, at, at, first.ToHashSet(), at + TimeSpan.FromMilliseconds(150), true, null),
            new KernelRead(1, at + TimeSpan.FromMilliseconds(1), at + TimeSpan.FromMilliseconds(1), second.ToHashSet(), secondLeased ? at + TimeSpan.FromMilliseconds(151) : null, true, null),
        ]);
    }
}
