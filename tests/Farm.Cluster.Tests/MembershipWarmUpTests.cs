using Farm.Cluster.Membership;
using Farm.Core.Buckets;
using Farm.Core.Config;

namespace Farm.Cluster.Tests;

[TestClass]
public sealed class MembershipWarmUpTests
{
    [TestMethod]
    [DataRow(SplitBrainPolicy.None, 1)]
    [DataRow(SplitBrainPolicy.Majority, 1)]
    [DataRow(SplitBrainPolicy.Witness, 2)]
    public void Run_ShippedTimings_FormsAViewLosesAMemberAndTakesItBackThroughPrepareAndCommit(SplitBrainPolicy policy, int lans)
    {
        var options = new MembershipOptions
        {
            ConfiguredNodes = ["n1", "n2"], // the real farm's names: the warm-up farm has its own
            SplitBrainPolicy = policy,
            LanCount = lans,
            TracksDrains = true,
        };
        ModuleSpec[] modules =
        [
            new("web", 256, BucketMode.Balance, false) { Hash = "h-web", Settings = ["seed=1"] },
            new("db", 256, BucketMode.Single, true) { Hash = "h-db", Settings = ["seed=2"] },
        ];
        var requests = new HashSet<Type>();
        int withOwnedBuckets = 0;

        var result = MembershipWarmUp.Run(options, modules,
            (request, reply) => requests.Add(request.GetType()),
            snapshot => withOwnedBuckets += snapshot.Modules.Values.Any(m => !m.BucketsIn(BucketState.Owned).IsEmpty) ? 1 : 0);

        Assert.IsTrue(result.Formed, "three nodes formed a view");
        Assert.IsTrue(result.Removed, "the two others removed the stopped node");
        Assert.IsTrue(result.Rejoined, "the restarted node was taken back and given buckets");
        CollectionAssert.IsSubsetOf(new[] { typeof(HeartbeatRequest), typeof(PrepareRequest), typeof(CommitRequest) }, requests.ToArray());
        Assert.IsGreaterThan(0, withOwnedBuckets, "ownership with owned buckets was published");
    }
}
