namespace Farm.Core.Tests.Buckets;

[TestClass]
public sealed class BucketTransitionTests
{
    private static BucketTable Balance(BucketTable previous, params BucketMember[] members) =>
        BucketTransition.Next(previous, members, previous.Epoch + 1, BucketMode.Balance);

    private static BucketTable Single(BucketTable previous, bool failback, params BucketMember[] members) =>
        BucketTransition.Next(previous, members, previous.Epoch + 1, BucketMode.Single, failback);

    private static BucketMember M(string name, int weight = 1, int priority = 0) => new(name, weight, priority);

    [TestMethod]
    public void Next_InitialEqualWeights_SplitsWithinOneBucket()
    {
        var table = Balance(BucketTable.Empty(4096), M("c"), M("a"), M("b"));

        Assert.AreEqual(1L, table.Epoch);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, table.Members.ToArray());
        Assert.AreEqual(4096, table.CountOf("a") + table.CountOf("b") + table.CountOf("c"));
        foreach (string name in table.Members)
        {
            Assert.IsTrue(table.CountOf(name) is 1365 or 1366, $"{name}: {table.CountOf(name)}");
        }

        Assert.AreEqual(0, table.UnownedCount);
    }

    [TestMethod]
    public void Next_InitialAssignment_GivesContiguousRangesInNameOrder()
    {
        var table = Balance(BucketTable.Empty(256), M("b"), M("a"));

        CollectionAssert.AreEqual(Enumerable.Range(0, 128).ToArray(), table.BucketsOf("a").ToArray());
        CollectionAssert.AreEqual(Enumerable.Range(128, 128).ToArray(), table.BucketsOf("b").ToArray());
    }

    [TestMethod]
    public void Next_UnequalWeights_EachCountIsFloorOrCeilOfItsShare()
    {
        var members = new[] { M("a", 1), M("b", 2), M("c", 3), M("d", 1000) };

        var table = Balance(BucketTable.Empty(4096), members);

        BucketInvariants.AssertBalanced(table, members);
        // 4096*3/1006 = 12.21..., 4096*1000/1006 = 4071.57...
        Assert.IsTrue(table.CountOf("c") is 12 or 13);
        Assert.IsTrue(table.CountOf("d") is 4071 or 4072);
    }

    [TestMethod]
    public void Next_MemberRemoved_MovesExactlyItsBuckets()
    {
        var before = Balance(BucketTable.Empty(4096), M("a"), M("b"), M("c"), M("d"));

        var after = Balance(before, M("a"), M("b"), M("d"));

        var moves = before.Diff(after);
        Assert.AreEqual(before.CountOf("c"), moves.Length);
        Assert.IsTrue(moves.All(m => m.From == "c" && m.To is "a" or "b" or "d"));
        BucketInvariants.AssertBalanced(after, [M("a"), M("b"), M("d")]);
        CollectionAssert.IsSubsetOf(before.BucketsOf("a").ToArray(), after.BucketsOf("a").ToArray(), "survivors keep what they had");
    }

    [TestMethod]
    public void Next_MemberJoins_MovesExactlyItsNewCountToIt()
    {
        var before = Balance(BucketTable.Empty(4096), M("a"), M("b"), M("c"));

        var after = Balance(before, M("a"), M("b"), M("c"), M("d"));

        var moves = before.Diff(after);
        Assert.AreEqual(1024, after.CountOf("d"));
        Assert.AreEqual(1024, moves.Length);
        Assert.IsTrue(moves.All(m => m.To == "d"));
    }

    [TestMethod]
    public void Next_WeightIncreased_MovesExactlyTheDeltaToThatMember()
    {
        var before = Balance(BucketTable.Empty(4096), M("a"), M("b"), M("c"));

        var after = Balance(before, M("a"), M("b", 2), M("c"));

        var moves = before.Diff(after);
        Assert.AreEqual(2048, after.CountOf("b"));
        Assert.AreEqual(2048 - before.CountOf("b"), moves.Length);
        Assert.IsTrue(moves.All(m => m.To == "b"));
    }

    [TestMethod]
    public void Next_WeightDecreased_MovesExactlyTheDeltaAwayFromThatMember()
    {
        var before = Balance(BucketTable.Empty(4096), M("a", 3), M("b", 3), M("c", 2));

        var after = Balance(before, M("a", 3), M("b", 1), M("c", 2));

        var moves = before.Diff(after);
        Assert.AreEqual(before.CountOf("b") - after.CountOf("b"), moves.Length);
        Assert.IsTrue(moves.All(m => m.From == "b"));
        BucketInvariants.AssertBalanced(after, [M("a", 3), M("b", 1), M("c", 2)]);
    }

    [TestMethod]
    public void Next_WeightZero_StaysMemberWithNoBuckets()
    {
        var before = Balance(BucketTable.Empty(1024), M("a"), M("b"));

        var after = Balance(before, M("a"), M("b", 0));

        CollectionAssert.Contains(after.Members.ToArray(), "b");
        Assert.AreEqual(0, after.CountOf("b"));
        Assert.AreEqual(1024, after.CountOf("a"));
        Assert.AreEqual(512, before.Diff(after).Length);
    }

    [TestMethod]
    public void Next_AllWeightsZero_EveryBucketUnowned()
    {
        var before = Balance(BucketTable.Empty(1024), M("a"), M("b"));

        var after = Balance(before, M("a", 0), M("b", 0));

        Assert.AreEqual(1024, after.UnownedCount);
        Assert.IsNull(after.OwnerOf(0));
        Assert.IsTrue(before.Diff(after).All(m => m.To is null));
    }

    [TestMethod]
    public void Next_NoMembers_EveryBucketUnowned()
    {
        var before = Balance(BucketTable.Empty(256), M("a"));

        var after = Balance(before);

        Assert.AreEqual(256, after.UnownedCount);
        Assert.AreEqual(0, after.Members.Length);
    }

    [TestMethod]
    public void Next_WeightReturnsFromZero_TakesItsShareBack()
    {
        var empty = Balance(BucketTable.Empty(256), M("a", 0), M("b", 0));

        var after = Balance(empty, M("a", 0), M("b", 3));

        Assert.AreEqual(256, after.CountOf("b"));
        Assert.AreEqual(256, empty.Diff(after).Count(m => m.From is null && m.To == "b"));
    }

    [TestMethod]
    public void Next_LeaverOwnedNothingButAnotherFloorRises_MovesTheFewestPossible()
    {
        // Shares with W=300: r 0.85 -> owns 0; i 170.67 -> owns 170; x,y,z 28.16 each -> 29, 29, 28.
        // Without r (W=299): i 171.24 must own at least 171, so one bucket has to move although r owned none.
        var members = new[] { M("i", 200), M("r", 1), M("x", 33), M("y", 33), M("z", 33) };
        var owners = Enumerable.Repeat((short)0, 170).Concat(Enumerable.Repeat((short)2, 29))
            .Concat(Enumerable.Repeat((short)3, 29)).Concat(Enumerable.Repeat((short)4, 28)).ToArray();
        var before = BucketTable.FromOwners(7, members, owners);
        BucketInvariants.AssertBalanced(before, members);

        var remaining = members.Where(m => m.Name != "r").ToArray();
        var after = Balance(before, remaining);

        BucketInvariants.AssertBalanced(after, remaining);
        var moves = before.Diff(after);
        Assert.AreEqual(1, BucketInvariants.MinimumMoves(before, remaining));
        Assert.AreEqual(1, moves.Length);
        Assert.AreEqual("i", moves[0].To);
    }

    [TestMethod]
    public void Next_SameMembersInAnyOrder_IdenticalTable()
    {
        // Ordinal order ("B" < "_" < "a" < "b" < "é") differs from culture order, which would sort "a" before "B".
        var members = new[] { M("b", 3), M("a", 5), M("é", 2), M("B", 7), M("_", 1) };
        var previous = Balance(BucketTable.Empty(4096), M("a", 1), M("b", 1), M("gone", 4));
        var reference = BucketTransition.Next(previous, members, 9, BucketMode.Balance);

        var random = new Random(1234);
        for (int i = 0; i < 20; i++)
        {
            var shuffled = members.ToArray();
            random.Shuffle(shuffled);
            var table = BucketTransition.Next(previous, shuffled, 9, BucketMode.Balance);
            Assert.AreEqual(reference, table);
            Assert.AreEqual(reference.Fingerprint, table.Fingerprint);
        }

        CollectionAssert.AreEqual(new[] { "B", "_", "a", "b", "é" }, reference.Members.ToArray());
    }

    [TestMethod]
    public void Next_SingleMode_HighestPriorityWithWeightOwnsEverything()
    {
        var table = Single(BucketTable.Empty(4096), false, M("a", 1, 1), M("b", 1, 5), M("c", 0, 9));

        Assert.AreEqual(4096, table.CountOf("b"));
        Assert.AreEqual(0, table.CountOf("c"), "weight 0 is never eligible");
    }

    [TestMethod]
    public void Next_SinglePriorityTie_OrdinallySmallestNameWins()
    {
        var table = Single(BucketTable.Empty(256), false, M("a", 1, 3), M("B", 1, 3));

        Assert.AreEqual(256, table.CountOf("B"));
    }

    [TestMethod]
    public void Next_SingleHigherPriorityReturnsWithoutFailback_CurrentOwnerKeepsEverything()
    {
        var primary = Single(BucketTable.Empty(1024), false, M("a", 1, 10), M("b", 1, 1));
        var failedOver = Single(primary, false, M("b", 1, 1));

        var returned = Single(failedOver, false, M("a", 1, 10), M("b", 1, 1));

        Assert.AreEqual(1024, primary.CountOf("a"));
        Assert.AreEqual(1024, failedOver.CountOf("b"));
        Assert.AreEqual(1024, returned.CountOf("b"), "a waits as standby");
        Assert.AreEqual(0, failedOver.Diff(returned).Length);
    }

    [TestMethod]
    public void Next_SingleHigherPriorityReturnsWithFailback_MovesEverythingToIt()
    {
        var failedOver = Single(BucketTable.Empty(1024), false, M("b", 1, 1));

        var returned = Single(failedOver, true, M("a", 1, 10), M("b", 1, 1));

        Assert.AreEqual(1024, returned.CountOf("a"));
        Assert.IsTrue(failedOver.Diff(returned).All(m => m.From == "b" && m.To == "a"));
    }

    [TestMethod]
    public void Next_SingleOwnerWeightDropsToZero_NextPriorityTakesOver()
    {
        var before = Single(BucketTable.Empty(256), false, M("a", 1, 10), M("b", 1, 5), M("c", 1, 1));

        var after = Single(before, false, M("a", 0, 10), M("b", 1, 5), M("c", 1, 1));

        Assert.AreEqual(256, after.CountOf("b"));
    }

    [TestMethod]
    public void Next_SingleNoEligibleMember_EveryBucketUnowned()
    {
        var before = Single(BucketTable.Empty(256), false, M("a"));

        var after = Single(before, false, M("a", 0));

        Assert.AreEqual(256, after.UnownedCount);
    }

    [TestMethod]
    public void Next_StaleEpoch_Throws()
    {
        var table = Balance(BucketTable.Empty(256), M("a"));

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => BucketTransition.Next(table, [M("a")], table.Epoch, BucketMode.Balance));
    }

    [TestMethod]
    public void Next_DuplicateName_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => BucketTransition.Next(BucketTable.Empty(256), [M("a"), M("a", 2)], 1, BucketMode.Balance));
    }

    [TestMethod]
    [DataRow(-1)]
    [DataRow(1001)]
    public void BucketMember_WeightOutOfRange_Throws(int weight)
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BucketMember("a", weight));
    }
}
