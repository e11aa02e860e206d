namespace Farm.DataPlane.Tests.Filtering;

[TestClass]
public sealed class BucketAssignmentTests
{
    [TestMethod]
    public void Constructor_UnsortedDuplicates_StoresSortedDistinct()
    {
        var assignment = new BucketAssignment(3, [5, 1, 5, 3], [9, 8], [2]);

        CollectionAssert.AreEqual(new[] { 1, 3, 5 }, assignment.Owned.ToArray());
        CollectionAssert.AreEqual(new[] { 8, 9 }, assignment.Incoming.ToArray());
        Assert.AreEqual(9, assignment.MaxBucket);
        Assert.AreEqual(3, assignment.Epoch);
    }

    [TestMethod]
    public void Constructor_BucketInTwoSets_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BucketAssignment(1, [1, 2], [], [2]));
    }

    [TestMethod]
    public void Constructor_NegativeBucket_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BucketAssignment(1, [-1], [], []));
    }

    [TestMethod]
    public void Empty_HasNoBuckets()
    {
        var empty = BucketAssignment.Empty(4);
        Assert.AreEqual(-1, empty.MaxBucket);
        Assert.IsEmpty(empty.Owned);
    }
}
