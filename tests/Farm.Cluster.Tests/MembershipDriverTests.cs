namespace Farm.Cluster.Tests;

[TestClass]
public sealed class MembershipDriverTests
{
    private static readonly MembershipOptions Options = new() { ConfiguredNodes = ["n1", "n2"] };
    private static readonly ModuleSpec[] Modules = [new("web", 16, BucketMode.Balance, false)];

    private static MembershipDriver Driver(string name = "n1") =>
        new(Options, new MemberInfo(name, 1, 100, 0, false, ["web"]), "cfg", Modules, TimeSpan.Zero);

    private static HeartbeatRequest HeartbeatOf(MembershipDriver peer) => new(peer.Manager.Self, "cfg", null, null);

    [TestMethod]
    public void Tick_NotPublishingOwnership_CarriesNoOwnership()
    {
        var driver = Driver();

        var effects = driver.Tick(TimeSpan.FromMilliseconds(50));

        Assert.IsNull(effects.Changed);
        Assert.IsNull(effects.LeaseExtendedTo);
        Assert.IsTrue(effects.Outbox.Count > 0, "a tick sends heartbeats");
    }

    [TestMethod]
    public void Tick_PublishingOwnership_CarriesItOnceUntilItChanges()
    {
        var driver = Driver();
        driver.PublishesOwnership = true;

        var first = driver.Tick(TimeSpan.FromMilliseconds(50));
        var second = driver.Tick(TimeSpan.FromMilliseconds(100));

        Assert.AreSame(driver.Manager.Ownership, first.Changed);
        Assert.IsNull(second.Changed, "nothing changed since the first tick");
    }

    [TestMethod]
    public void HandleRequest_SameHeartbeatAgain_WakesCoordinatorOnlyTheFirstTime()
    {
        var driver = Driver();
        var heartbeat = HeartbeatOf(Driver("n2"));

        var first = driver.HandleRequest("n2", 0, heartbeat, TimeSpan.FromMilliseconds(10)).Effects;
        var again = driver.HandleRequest("n2", 0, heartbeat, TimeSpan.FromMilliseconds(20)).Effects;
        var late = driver.HandleRequest("n2", 0, heartbeat, TimeSpan.FromMilliseconds(20) + (Options.DetectionTimeout / 2)).Effects;

        Assert.IsTrue(first.WakesCoordinator, "a new peer is news");
        Assert.IsFalse(again.WakesCoordinator, "nothing new");
        Assert.IsTrue(late.WakesCoordinator, "silent for half a detection timeout: it may have been lost meanwhile");
    }

    [TestMethod]
    public void NextPollAt_NoViewYet_IsOnePollIntervalAway()
    {
        var driver = Driver();
        var now = TimeSpan.FromMilliseconds(50);
        driver.Tick(now);

        Assert.AreEqual(now + TimeSpan.FromMilliseconds(5), driver.NextPollAt(now, TimeSpan.FromMilliseconds(5)));
    }
}
