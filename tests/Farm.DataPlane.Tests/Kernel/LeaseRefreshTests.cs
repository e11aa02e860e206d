using System.Net;
using Farm.Native.Linux;

namespace Farm.DataPlane.Tests.Kernel;

/// <summary>The lease refresh's own netlink batch (<see cref="NftLeaseBatch"/>) against the kernel, read back through nft.</summary>
[TestClass]
public sealed class LeaseRefreshTests : KernelTestClass
{
    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task RefreshLease_InstalledModule_EveryVipHoldsTheNewTimeout()
    {
        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct);
        var logs = new TestLogSink();

        var (first, second) = await topology.Nodes[0].Namespace.RunAsync(() =>
        {
            using var client = new LibNftablesClient();
            using var filter = new NftablesPacketFilter(client, logs.CreateLogger<NftablesPacketFilter>());
            filter.Install(Modules.Web());
            filter.RefreshLease(TimeSpan.FromSeconds(30));
            string afterFirst = client.List("list set inet farm_web lease4", json: false) + client.List("list set inet farm_web lease6", json: false);
            filter.RefreshLease(TimeSpan.FromMilliseconds(4500));
            string afterSecond = client.List("list set inet farm_web lease4", json: false) + client.List("list set inet farm_web lease6", json: false);
            filter.Remove();
            return (afterFirst, afterSecond);
        });

        TestContext.WriteLine(first + second);
        StringAssert.Contains(first, $"{Modules.Vip4} timeout 30s expires");
        StringAssert.Contains(first, $"{Modules.Vip6} timeout 30s expires");
        StringAssert.Contains(second, $"{Modules.Vip4} timeout 4s500ms expires");
        StringAssert.Contains(second, $"{Modules.Vip6} timeout 4s500ms expires");
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task RefreshLease_NoSuchTable_ThrowsWithTheKernelsErrno()
    {
        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct);
        var refresh = new NftLeaseBatch.Refresh("farm_missing", [new NftLeaseBatch.Element("lease4", IPAddress.Parse("198.18.0.100"))], 150);

        var error = await topology.Nodes[0].Namespace.RunAsync<(string Message, string Listed)?>(() =>
        {
            using var client = new LibNftablesClient();
            try
            {
                client.Write(refresh);
                return null;
            }
            catch (NftablesException e)
            {
                // The socket is still usable: a later refresh of an existing table works.
                client.Run("add table inet farm_other\nadd set inet farm_other lease4 { type ipv4_addr; flags timeout; }\n");
                client.Write(refresh with { Table = "farm_other" });
                string listed = client.List("list set inet farm_other lease4", json: false);
                client.Run("delete table inet farm_other\n");
                return (e.Message, listed);
            }
        });

        Assert.IsNotNull(error, "a refresh of a table that does not exist was accepted");
        StringAssert.Contains(error.Value.Message, "errno 2");
        StringAssert.Contains(error.Value.Listed, "198.18.0.100 timeout 1"); // 150 ms in the kernel's jiffies: 148 ms at HZ 250
    }
}
