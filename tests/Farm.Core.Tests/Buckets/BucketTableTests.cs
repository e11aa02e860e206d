namespace Farm.Core.Tests.Buckets;

[TestClass]
public sealed class BucketTableTests
{
    [TestMethod]
    public void Empty_DefaultCount_AllBucketsUnownedAtEpochZero()
    {
        var table = BucketTable.Empty();

        Assert.AreEqual(4096, table.BucketCount);
        Assert.AreEqual(0L, table.Epoch);
        Assert.AreEqual(4096, table.UnownedCount);
        Assert.IsNull(table.OwnerOf(4095));
        Assert.AreEqual(BucketTable.Unowned, table.OwnerIndexOf(0));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(128)]
    [DataRow(3000)]
    [DataRow(131072)]
    public void Empty_InvalidBucketCount_Throws(int count)
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => BucketTable.Empty(count));
    }

    [TestMethod]
    [DataRow(-1)]
    [DataRow(256)]
    public void OwnerOf_BucketOutsideTable_Throws(int bucket)
    {
        var table = BucketTable.Empty(256);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => table.OwnerOf(bucket));
    }

    [TestMethod]
    public void BucketsOf_Member_ReturnsItsBucketsAscending()
    {
        short[] owners = Enumerable.Range(0, 256).Select(b => (short)(b % 3 == 0 ? 1 : b % 3 == 1 ? 0 : -1)).ToArray();
        var table = BucketTable.FromOwners(3, [new BucketMember("y"), new BucketMember("x")], owners);

        // Index 0 is "x" and 1 is "y" (ordinal order), whatever order the members were given in.
        CollectionAssert.AreEqual(Enumerable.Range(0, 256).Where(b => b % 3 == 0).ToArray(), table.BucketsOf("y").ToArray());
        Assert.AreEqual(85, table.CountOf("x"));
        Assert.AreEqual("y", table.OwnerOf(3));
        Assert.AreEqual(85, table.UnownedCount);
    }

    [TestMethod]
    public void CountOf_NonMember_IsZero()
    {
        var table = BucketTransition.Next(BucketTable.Empty(256), [new BucketMember("a")], 1, BucketMode.Balance);

        Assert.AreEqual(0, table.CountOf("A"), "names are compared ordinally");
        Assert.AreEqual(0, table.BucketsOf("zz").Length);
        Assert.AreEqual(-1, table.IndexOf("zz"));
    }

    [TestMethod]
    public void Diff_ChangedBuckets_ListsOldAndNewOwnerAscending()
    {
        var members = new[] { new BucketMember("a"), new BucketMember("b") };
        short[] before = new short[256];
        short[] after = new short[256];
        after[5] = 1;
        after[9] = -1;
        var older = BucketTable.FromOwners(1, members, before);
        var newer = BucketTable.FromOwners(2, members, after);

        var moves = older.Diff(newer);

        CollectionAssert.AreEqual(new[] { new BucketMove(5, "a", "b"), new BucketMove(9, "a", null) }, moves.ToArray());
        Assert.AreEqual(0, older.Diff(older).Length);
    }

    [TestMethod]
    public void Diff_MemberGoneAndNobodyLeft_MovesToUnowned()
    {
        var older = BucketTransition.Next(BucketTable.Empty(256), [new BucketMember("a"), new BucketMember("b")], 1, BucketMode.Balance);
        var newer = BucketTransition.Next(older, [new BucketMember("b", 0)], 2, BucketMode.Balance);

        var moves = older.Diff(newer);

        Assert.AreEqual(256, moves.Length);
        Assert.AreEqual(new BucketMove(0, "a", null), moves[0]);
        Assert.AreEqual(new BucketMove(255, "b", null), moves[255]);
    }

    [TestMethod]
    public void Diff_DifferentBucketCounts_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => BucketTable.Empty(256).Diff(BucketTable.Empty(512)));
    }

    [TestMethod]
    public void FromOwners_TableOfAnotherNode_EqualsOriginal()
    {
        var members = new[] { new BucketMember("n2", 3), new BucketMember("n1", 1), new BucketMember("n3", 0) };
        var original = BucketTransition.Next(BucketTable.Empty(1024), members, 42, BucketMode.Balance);

        var copy = BucketTable.FromOwners(original.Epoch, members, original.OwnerIndices);

        Assert.AreEqual(original, copy);
        Assert.AreEqual(original.Fingerprint, copy.Fingerprint);
        Assert.AreEqual(original.GetHashCode(), copy.GetHashCode());
    }

    [TestMethod]
    public void Equals_DifferentWeights_NotEqual()
    {
        short[] owners = new short[256];
        var a = BucketTable.FromOwners(1, [new BucketMember("a", 1)], owners);
        var b = BucketTable.FromOwners(1, [new BucketMember("a", 2)], owners);

        Assert.AreNotEqual(a, b, "weights steer the next transition, so they are part of the table");
    }

    [TestMethod]
    public void FromOwners_IndexOutOfRange_Throws()
    {
        short[] owners = new short[256];
        owners[7] = 2;

        Assert.ThrowsExactly<ArgumentException>(() => BucketTable.FromOwners(1, [new BucketMember("a"), new BucketMember("b")], owners));
    }

    [TestMethod]
    public void ToString_ListsEpochAndCounts()
    {
        var table = BucketTransition.Next(BucketTable.Empty(256), [new BucketMember("b"), new BucketMember("a")], 2, BucketMode.Balance);

        Assert.AreEqual("epoch 2, 256 buckets: a(w1)=128 b(w1)=128", table.ToString());
    }
}
