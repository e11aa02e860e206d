using System.Collections.Immutable;
using Farm.Core.Ownership;

namespace Farm.Core.Tests.Ownership;

/// <summary>Which buckets lose their conntrack entries, and when: the rules farmd and the simulation's flow model share.</summary>
[TestClass]
public sealed class StaleEntryPolicyTests
{
    private const BucketState None = BucketState.None;
    private const BucketState Owned = BucketState.Owned;
    private const BucketState Draining = BucketState.Draining;
    private const BucketState Claimed = BucketState.Claimed;
    private const BucketState Incoming = BucketState.Incoming;

    [TestMethod]
    public void Next_BucketBecomesNone_DeletedAfterTheApplyOnce()
    {
        var policy = new StaleEntryPolicy(3);
        Next(policy, [Owned, Draining, None]);

        var stale = Next(policy, [Owned, None, None]);
        var again = Next(policy, [Owned, None, None]);

        CollectionAssert.AreEqual(new[] { 1 }, stale.AfterApply.ToArray());
        Assert.IsEmpty(stale.BeforeApply);
        Assert.IsTrue(again.IsEmpty, "a bucket that stays none has nothing left to delete");
    }

    [TestMethod]
    public void Next_FirstStatesAfterStart_NothingDeleted()
    {
        var policy = new StaleEntryPolicy(2);

        Assert.IsTrue(Next(policy, [Owned, None]).IsEmpty, "the start deleted everything already");
    }

    [TestMethod]
    public void Next_ClaimAfterBeingOutOfTheView_EveryServedBucketDeletedBeforeTheApply()
    {
        // It was out of the view (removed after its lease ran out, or a partition under policy none): others served
        // these buckets meanwhile.
        var policy = new StaleEntryPolicy(4);
        Next(policy, [Owned, Draining, Incoming, None]);

        var stale = Next(policy, [Claimed, Draining, Claimed, None], rejoinClaims: 1);

        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, stale.BeforeApply.ToArray());
        Assert.IsEmpty(stale.AfterApply);
    }

    [TestMethod]
    public void Next_RejoinClaimEndedInTheSameCall_DeletedThoughNoClaimedStateWasSeen()
    {
        // A paused node drained the bucket, was removed, and promises the view that gives it back; every peer had
        // reported already, so the claim ended in the same call: draining, then incoming.
        var policy = new StaleEntryPolicy(1);
        Next(policy, [Draining]);

        var stale = Next(policy, [Incoming], rejoinClaims: 1);
        var again = Next(policy, [Owned], rejoinClaims: 1);

        CollectionAssert.AreEqual(new[] { 0 }, stale.BeforeApply.ToArray());
        Assert.IsTrue(again.IsEmpty, "once per rejoin");
    }

    [TestMethod]
    public void Next_SnapshotOfALowerRejoinCountAfterARejoin_NoRejoin()
    {
        // Snapshots reach the data plane unordered (a heartbeat's change is delivered behind it): an older one, of a lower
        // count, is no new rejoin, and the next one of the same count as the last rejoin is none either.
        var policy = new StaleEntryPolicy(2);
        Next(policy, [Owned, Owned], rejoinClaims: 2);

        Assert.IsFalse(policy.Rejoins(Snapshot([Owned, Owned], rejoinClaims: 1)));
        Assert.IsTrue(Next(policy, [Owned, Owned], rejoinClaims: 1).IsEmpty);
        Assert.IsTrue(Next(policy, [Owned, Owned], rejoinClaims: 2).IsEmpty);
        Assert.IsTrue(policy.Rejoins(Snapshot([Owned, Owned], rejoinClaims: 3)));
    }

    [TestMethod]
    public void Next_ClaimWhileInTheView_EntriesKept()
    {
        // Missed commits, a lease lapse: while the node stayed in the view, it drained and owned its buckets all along.
        var policy = new StaleEntryPolicy(2);
        Next(policy, [Draining, Owned]);

        var stale = Next(policy, [Claimed, Claimed]);

        Assert.IsTrue(stale.IsEmpty);
    }

    [TestMethod]
    public void Next_OtherBucketCount_Throws()
    {
        var policy = new StaleEntryPolicy(2);

        Assert.ThrowsExactly<ArgumentException>(() => Next(policy, [Owned]));
    }

    private static StaleBuckets Next(StaleEntryPolicy policy, BucketState[] states, long rejoinClaims = 0)
    {
        var snapshot = Snapshot(states, rejoinClaims);
        return policy.Next(snapshot.Modules["web"].States, snapshot);
    }

    private static OwnershipSnapshot Snapshot(BucketState[] states, long rejoinClaims) =>
        new(1, null, null, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("web", new ModuleOwnership("web", states, []))]), rejoinClaims);
}
