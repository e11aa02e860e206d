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
    public void Next_ClaimedAfterALeaseLapse_DeletedBeforeTheApply()
    {
        var policy = new StaleEntryPolicy(2);
        Next(policy, [Owned, Owned]);

        policy.LeaseLapsed();
        var stale = Next(policy, [Claimed, Owned], claims: 1);

        CollectionAssert.AreEqual(new[] { 0, 1 }, stale.BeforeApply.ToArray(), "every served bucket the lapse marked, claimed now or not");
        Assert.IsEmpty(stale.AfterApply);
        Assert.IsTrue(Next(policy, [Owned, Owned], claims: 2).IsEmpty, "cleaned once: the next claim finds nothing stale");
    }

    [TestMethod]
    public void Next_ClaimEndedInTheSameCallAfterALapse_DeletedThoughNoClaimedStateWasSeen()
    {
        // A paused node drained the bucket, lost its lease, and installs the view that gives it back after missed views;
        // every peer had reported already, so the claim ended in the install's call: draining, then incoming.
        var policy = new StaleEntryPolicy(1);
        Next(policy, [Draining]);

        policy.LeaseLapsed();
        var stale = Next(policy, [Incoming], claims: 1);

        CollectionAssert.AreEqual(new[] { 0 }, stale.BeforeApply.ToArray());
    }

    [TestMethod]
    public void Next_DrainingAtAClaimAfterALapse_Deleted()
    {
        // Others removed the lapsed node and served its drained flows; it keeps the drain after the install.
        var policy = new StaleEntryPolicy(2);
        Next(policy, [Draining, Owned]);

        policy.LeaseLapsed();
        var stale = Next(policy, [Draining, Claimed], claims: 1);

        CollectionAssert.AreEqual(new[] { 0, 1 }, stale.BeforeApply.ToArray());
    }

    [TestMethod]
    public void Next_ClaimWithoutALapse_EntriesKept()
    {
        // Missed commits within the lineage: the node drained and owned its buckets all along, nobody else served them.
        var policy = new StaleEntryPolicy(2);
        Next(policy, [Draining, Owned]);

        var stale = Next(policy, [Claimed, Claimed], claims: 1);

        Assert.IsTrue(stale.IsEmpty);
    }

    [TestMethod]
    public void Next_LapseWithoutAClaim_EntriesKept()
    {
        var policy = new StaleEntryPolicy(2);
        Next(policy, [Owned, Draining]);

        policy.LeaseLapsed();
        var stale = Next(policy, [Owned, Draining]);

        Assert.IsTrue(stale.IsEmpty, "no other node served a bucket the installed table still gives this node");
    }

    [TestMethod]
    public void Next_LapseThenNone_DeletedAfterTheApply()
    {
        var policy = new StaleEntryPolicy(1);
        Next(policy, [Owned]);
        policy.LeaseLapsed();

        var stale = Next(policy, [None]);
        var claimedLater = Next(policy, [Claimed], claims: 1);

        CollectionAssert.AreEqual(new[] { 0 }, stale.AfterApply.ToArray());
        Assert.IsTrue(claimedLater.IsEmpty, "cleaned when it became none");
    }

    [TestMethod]
    public void Next_ClaimFromAnotherHistory_EveryServedBucketDeletedWithoutALapse()
    {
        // After a partition under policy none, both sides served these buckets.
        var policy = new StaleEntryPolicy(4);
        Next(policy, [Owned, Draining, Incoming, None]);

        var stale = Next(policy, [Claimed, Draining, Claimed, None], claims: 1, foreignClaims: 1);

        CollectionAssert.AreEqual(new[] { 0, 1, 2 }, stale.BeforeApply.ToArray());
        Assert.IsEmpty(stale.AfterApply);
    }

    [TestMethod]
    public void Next_OtherBucketCount_Throws()
    {
        var policy = new StaleEntryPolicy(2);

        Assert.ThrowsExactly<ArgumentException>(() => Next(policy, [Owned]));
    }

    private static StaleBuckets Next(StaleEntryPolicy policy, BucketState[] states, long claims = 0, long foreignClaims = 0)
    {
        var module = new ModuleOwnership("web", states, []);
        var snapshot = new OwnershipSnapshot(1, null, null, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("web", module)]), claims, foreignClaims);
        return policy.Next(module.States, snapshot);
    }
}
