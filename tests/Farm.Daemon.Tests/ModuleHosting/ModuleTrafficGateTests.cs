using Farm.Cluster.Membership;
using Farm.DataPlane.Runtime;
using Farm.Testing.DataPlane;
using Farm.Testing.Ownership;

namespace Farm.Daemon.Tests.ModuleHosting;

[TestClass]
public sealed class ModuleTrafficGateTests(TestContext testContext)
{
    [TestMethod]
    public async Task OpenGate_KernelRefusesTheBucketSets_ModuleNotAnnouncedReadyUntilAnApplySucceeds()
    {
        using var host = new MembershipHost(
            new MembershipOptions { ConfiguredNodes = ["n1", "n2"] }, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);
        var backend = new FakeBackend();
        var dataPlane = new DataPlaneHost([FakeBackend.Web()], backend, NullLogger<DataPlaneHost>.Instance);
        dataPlane.Start();
        var gate = new ModuleTrafficGate(FakeBackend.Web(), host, dataPlane, TimeProvider.System, NullLogger<ModuleTrafficGate>.Instance);
        await gate.OpenAsync("web", "started", testContext.CancellationToken);
        Assert.IsTrue(Ready(host), "an open gate announces the module");

        backend.Planes[0].FailApplies = true;
        dataPlane.Publish(OwnershipSnapshots.Of(1, "web", BucketState.Owned, BucketState.Owned));
        await Poll.UntilAsync(() => Task.FromResult(Ready(host)), ready => !ready, "web withdrawn while its kernel refuses the sets", TimeSpan.FromSeconds(5), testContext.CancellationToken);
        Assert.IsTrue(gate.IsOpen, "the module itself still runs; only its announcement is withheld");

        backend.Planes[0].FailApplies = false;
        dataPlane.RefreshLease(TimeSpan.FromMilliseconds(150)); // a tick retries the apply
        await Poll.UntilAsync(() => Task.FromResult(Ready(host)), ready => ready, "web announced again", TimeSpan.FromSeconds(5), testContext.CancellationToken);

        await gate.CloseAsync("web", "stop", testContext.CancellationToken);
        Assert.IsFalse(Ready(host), "a closed gate withdraws it whatever the kernel does");
    }

    private static bool Ready(MembershipHost host) => host.Read((m, _) => m.Self.ReadyModules.Contains("web"));
}
