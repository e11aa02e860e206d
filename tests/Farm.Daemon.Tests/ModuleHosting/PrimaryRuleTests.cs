using Farm.Cluster.Membership;

namespace Farm.Daemon.Tests.ModuleHosting;

[TestClass]
public sealed class PrimaryRuleTests
{
    private const string Module = "db";

    [TestMethod]
    public void ShouldBePrimary_OwnsEveryBucketNothingIncoming_True() =>
        Assert.IsTrue(PrimaryRule.ShouldBePrimary("a", Module, View("a", Ready("a"), Ready("b")), incoming: 0, previousOwner: null));

    [TestMethod]
    public void ShouldBePrimary_AnotherNodeOwnsTheModule_False() =>
        Assert.IsFalse(PrimaryRule.ShouldBePrimary("b", Module, View("a", Ready("a"), Ready("b")), incoming: 0, previousOwner: null));

    [TestMethod]
    public void ShouldBePrimary_NoView_False() =>
        Assert.IsFalse(PrimaryRule.ShouldBePrimary("a", Module, null, incoming: 0, previousOwner: null));

    [TestMethod]
    public void ShouldBePrimary_IncomingFromAPreviousOwnerThatStillHasTheModuleReady_WaitsForTheDrain() =>
        Assert.IsFalse(PrimaryRule.ShouldBePrimary("a", Module, View("a", Ready("a"), Ready("b")), incoming: 256, previousOwner: "b"));

    [TestMethod]
    public void ShouldBePrimary_IncomingFromAPreviousOwnerThatClosedTheModule_TakesAtOnce() =>
        Assert.IsTrue(PrimaryRule.ShouldBePrimary("a", Module, View("a", Ready("a"), NotReady("b")), incoming: 256, previousOwner: "b"));

    [TestMethod]
    public void ShouldBePrimary_IncomingFromAPreviousOwnerThatIsLeaving_TakesAtOnce() =>
        Assert.IsTrue(PrimaryRule.ShouldBePrimary("a", Module, View("a", Ready("a"), Ready("b") with { Leaving = true }), incoming: 256, previousOwner: "b"));

    [TestMethod]
    public void ShouldBePrimary_IncomingFromAnUnknownPreviousOwner_WaitsForTheDrain() =>
        Assert.IsFalse(PrimaryRule.ShouldBePrimary("a", Module, View("a", Ready("a"), Ready("b")), incoming: 256, previousOwner: null));

    private static MemberInfo Ready(string name) => new(name, 1, 100, name == "a" ? 2 : 1, false, [Module]);

    private static MemberInfo NotReady(string name) => new(name, 1, 100, 1, false, []);

    private static ClusterView View(string owner, params MemberInfo[] members)
    {
        var table = BucketTable.FromOwners(
            5, members.Select(m => new BucketMember(m.Name, m.Weight, m.Priority)).ToList(), Enumerable.Repeat((short)members.ToList().FindIndex(m => m.Name == owner), 256).ToArray());
        return new ClusterView(new ViewId(5, "a", 1), members, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create(Module, table)]));
    }
}
