using System.Net;
using Farm.Native.Linux;

namespace Farm.DataPlane.Tests.Kernel;

/// <summary>
/// The bucket states' own netlink batch (<see cref="NftStateBatch"/>) against the kernel: what it leaves in the sets and
/// the map, read back through nft, is what libnftables leaves for the same batch's text.
/// </summary>
[TestClass]
public sealed class StateBatchTests : KernelTestClass
{
    private static readonly string[] Sets = ["owned", "incoming", "draining", "claimed", "foreign4", "foreign6"];

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Write_Assignments_SetsAndMapHoldWhatTheTextWouldWrite()
    {
        BucketAssignment[] assignments =
        [
            // Runs that start at 0 and not, single buckets, states side by side in the map, the last bucket, flows of both families.
            new(1, [0, 1, 2, 7, 255], [3, 4, 5], [9], [10, 11], [IPEndPoint.Parse("198.18.1.9:53"), IPEndPoint.Parse("[2001:db8::9]:5353")]),
            new(2, [5, 6], [], [100, 101, 102], [], []),
            new(3, [.. Enumerable.Range(0, 256).Where(b => b % 2 == 1)], [.. Enumerable.Range(0, 256).Where(b => b % 2 == 0)], [], [], [IPEndPoint.Parse("198.18.1.1:4000")]),
            BucketAssignment.Empty(4),
        ];
        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct);
        var logs = new TestLogSink();

        var listings = await topology.Nodes[0].Namespace.RunAsync(() =>
        {
            using var client = new LibNftablesClient();
            var ruleset = new NftRuleset(Modules.Web());
            client.Run(ruleset.Install());
            var pairs = new List<(string Netlink, string Text)>();
            foreach (var assignment in assignments)
            {
                var batch = ruleset.StateBatch(assignment);
                client.Write(batch);
                string netlink = List(client);
                client.Run(ruleset.StateBatch(BucketAssignment.Empty(0)).Text); // empty again, so the text starts from nothing too
                client.Run(batch.Text);
                pairs.Add((netlink, List(client)));
            }

            client.Run(ruleset.Delete());
            return pairs;
        });

        foreach (var (netlink, text) in listings)
        {
            TestContext.WriteLine(netlink);
            Assert.AreEqual(text, netlink);
        }

        StringAssert.Contains(listings[0].Netlink, "0x00000000-0x00000002 : goto admit_owned, 0x00000003-0x00000005 : goto admit_incoming");
        StringAssert.Contains(listings[0].Netlink, "198.18.1.9 . 53");
        StringAssert.Contains(listings[0].Netlink, "2001:db8::9 . 5353");
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Write_NoSuchSet_ThrowsWithTheKernelsErrorAndChangesNothing()
    {
        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct);

        var (message, owned) = await topology.Nodes[0].Namespace.RunAsync(() =>
        {
            using var client = new LibNftablesClient();
            var ruleset = new NftRuleset(Modules.Web());
            client.Run(ruleset.Install());
            client.Write(ruleset.StateBatch(new BucketAssignment(1, [1], [], [])));
            var batch = ruleset.StateBatch(new BucketAssignment(2, [2], [], []));
            string error = Assert.ThrowsExactly<NftablesException>(() => client.Write(batch with { Map = "missing" })).Message;
            string listed = client.List("list set inet farm_web owned", json: false);
            client.Run(ruleset.Delete());
            return (error, listed);
        });

        StringAssert.Contains(message, "errno 2");
        StringAssert.Contains(owned, "elements = { 0x00000001 }", "a refused batch changed the owned set");
    }

    private static string List(LibNftablesClient client) =>
        string.Concat(Sets.Select(s => client.List($"list set inet farm_web {s}", json: false))) + client.List("list map inet farm_web states", json: false);
}
