using Farm.Cluster.Membership;
using Farm.Daemon.Drain;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Drain;

[TestClass]
public sealed class DrainSwitchTests
{
    [TestMethod]
    public void Drain_Twice_SecondChangesNothingAndTheNodeLeaves()
    {
        using var host = Host();
        var drain = new DrainSwitch(host);

        Assert.IsTrue(drain.Drain());
        Assert.IsFalse(drain.Drain());

        Assert.IsTrue(drain.IsDrained);
        Assert.IsTrue(Leaving(host));
    }

    [TestMethod]
    public void Resume_DrainedNode_StopsLeaving()
    {
        using var host = Host();
        var drain = Drained(host);

        Assert.IsTrue(drain.Resume());
        Assert.IsFalse(drain.Resume(), "not drained any more: nothing changes");

        Assert.IsFalse(Leaving(host));
    }

    [TestMethod]
    public void Resume_WhileStopping_KeepsTheShutdownLeave()
    {
        using var host = Host();
        var drain = Drained(host);
        drain.LeaveForShutdown();

        Assert.IsTrue(drain.Resume());

        Assert.IsTrue(drain.IsStopping);
        Assert.IsFalse(drain.IsDrained);
        Assert.IsTrue(Leaving(host), "a resume never cancels the leave of a stopping farmd");
    }

    [TestMethod]
    public void Drain_KeepsWeightAndModules_OnlyLeavingChanges()
    {
        using var host = Host();
        host.UpdateSelf(s => s with { Weight = 70, ReadyModules = ["web"] });
        new DrainSwitch(host).Drain();
        var self = host.Read((m, _) => m.Self);
        Assert.AreEqual((70, true, "web"), (self.Weight, self.Leaving, string.Join(",", self.ReadyModules)));
    }

    [TestMethod]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Drain_KeptInTheStateFolder_ANewRunStartsDrainedUntilResumed()
    {
        string dir = Directory.CreateTempSubdirectory("farm-drain-").FullName;
        try
        {
            string file = DrainSwitch.FileOf(dir, "n1");
            using (var first = Host())
            {
                Assert.IsTrue(new DrainSwitch(first, file).Drain());
                Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file), "state files are root's only");
            }

            using var second = Host();
            var restarted = new DrainSwitch(second, file);
            Assert.IsTrue(restarted.Restored);
            Assert.IsTrue(restarted.IsDrained);
            Assert.IsTrue(Leaving(second), "drained from the first heartbeat of the new run");

            Assert.IsTrue(restarted.Resume());
            Assert.IsFalse(File.Exists(file));
            using var third = Host();
            Assert.IsFalse(new DrainSwitch(third, file).IsDrained, "a resumed node starts serving after a restart");
            Assert.IsFalse(Leaving(third));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Drain_StateFolderMissing_DrainHoldsAndSaysItIsNotKept()
    {
        using var host = Host();
        var drain = new DrainSwitch(host, Path.Combine(Path.GetTempPath(), "farm-no-such-folder-" + Guid.NewGuid().ToString("N"), "drained-n1"));

        Assert.IsTrue(drain.Drain());

        Assert.IsTrue(Leaving(host));
        StringAssert.StartsWith(drain.KeepProblem, "cannot write ");
    }

    [TestMethod]
    [DataRow(false, 10, 5, 5, Wire.DrainState.None)]
    [DataRow(true, 10, 0, 0, Wire.DrainState.Draining)]
    [DataRow(true, 0, 3, 0, Wire.DrainState.Draining)]
    [DataRow(true, 0, 0, 3, Wire.DrainState.Draining)]
    [DataRow(true, 0, 0, 0, Wire.DrainState.Drained)]
    public void State_OwnedIncomingDraining_DrainedOnlyWhenAllZero(bool asked, int owned, int incoming, int draining, Wire.DrainState expected) =>
        Assert.AreEqual(expected, DrainProgress.State(asked, owned, [new ModuleDrainStatus("web", incoming, draining, null), new ModuleDrainStatus("db", 0, 0, null)]));

    private static MembershipHost Host() =>
        new(new MembershipOptions { ConfiguredNodes = ["n1", "n2"] }, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);

    /// <summary>A switch of <paramref name="host"/> (state not kept) that was drained.</summary>
    private static DrainSwitch Drained(MembershipHost host)
    {
        var drain = new DrainSwitch(host);
        drain.Drain();
        return drain;
    }

    private static bool Leaving(MembershipHost host) => host.Read((m, _) => m.Self.Leaving);
}
