namespace Farm.Cluster.Tests;

[TestClass]
public sealed class WitnessMonitorTests
{
    private static readonly MembershipOptions Options = new()
    {
        ConfiguredNodes = ["n01", "n02", "n03"],
        SplitBrainPolicy = SplitBrainPolicy.Witness,
    };

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    [TestMethod]
    public void Lost_OtherPolicyNeverReached_IsFalse()
    {
        var witness = new WitnessMonitor(Options with { SplitBrainPolicy = SplitBrainPolicy.Majority });

        Assert.IsFalse(witness.Lost(TimeSpan.FromHours(1)));
    }

    [TestMethod]
    public void HeldFor_ReachedWithoutGap_CountsFromFirstProbe()
    {
        var witness = new WitnessMonitor(Options);
        var step = Options.FreshnessWindow / 2;
        for (var t = TimeSpan.FromSeconds(1); t <= TimeSpan.FromSeconds(1) + (step * 4); t += step)
        {
            witness.Reached(t);
        }

        var now = TimeSpan.FromSeconds(1) + (step * 4);
        Assert.IsFalse(witness.Lost(now));
        Assert.IsTrue(witness.HeldFor(step * 4, now));
        Assert.IsFalse(witness.HeldFor((step * 4) + Ms(1), now));
    }

    [TestMethod]
    public void HeldFor_AfterGapLongerThanFreshnessWindow_StreakStartsAgain()
    {
        var witness = new WitnessMonitor(Options);
        witness.Reached(TimeSpan.FromSeconds(1));
        var back = TimeSpan.FromSeconds(1) + Options.FreshnessWindow + Ms(1);

        Assert.IsTrue(witness.Lost(back));
        witness.Reached(back);

        Assert.IsFalse(witness.Lost(back));
        Assert.IsTrue(witness.HeldFor(TimeSpan.Zero, back));
        Assert.IsFalse(witness.HeldFor(Ms(1), back));
    }
}
