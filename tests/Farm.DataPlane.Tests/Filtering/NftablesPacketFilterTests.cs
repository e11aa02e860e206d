using Microsoft.Extensions.Time.Testing;

namespace Farm.DataPlane.Tests.Filtering;

[TestClass]
public sealed class NftablesPacketFilterTests
{
    [TestMethod]
    public void Apply_BeforeInstall_Throws()
    {
        using var filter = new NftablesPacketFilter(new RecordingNftablesClient(), NullLogger.Instance);

        Assert.ThrowsExactly<InvalidOperationException>(() => filter.Apply(BucketAssignment.Empty(1)));
        Assert.ThrowsExactly<InvalidOperationException>(() => filter.RefreshLease(TimeSpan.FromSeconds(1)));
    }

    [TestMethod]
    public void InstallApplyRefresh_EachIsOneBatch()
    {
        var client = new RecordingNftablesClient();
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance);

        filter.Install(Modules.Web());
        filter.Apply(new BucketAssignment(1, [0, 1], [2], [3]));
        filter.RefreshLease(TimeSpan.FromMilliseconds(600));

        Assert.HasCount(3, client.Batches);
        StringAssert.Contains(client.Batches[0], "table inet farm_web {");
        StringAssert.Contains(client.Batches[1], "add element inet farm_web draining { 3 }");
        StringAssert.Contains(client.Batches[2], "timeout 600ms");
        Assert.AreEqual("farm_web", filter.TableName);
    }

    [TestMethod]
    public void Install_Module_ChecksAnApplyOfEverySetAndALeaseRefreshWithoutCommittingThem()
    {
        var client = new RecordingNftablesClient();
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance);

        filter.Install(Modules.Web());

        Assert.HasCount(1, client.Batches, "only the tables reach the kernel");
        string rehearsal = client.Checks.Single();
        foreach (string set in (string[])["owned", "incoming", "draining", "claimed", "foreign4", "foreign6", "lease4"])
        {
            StringAssert.Contains(rehearsal, $"add element inet farm_web {set} {{ ", $"the dry run fills {set}");
        }
    }

    [TestMethod]
    public void Apply_FlowNoLongerListed_StaysUntilALeaseRefreshAfterTheHold()
    {
        var (client, time, filter, kept, _) = WithTwoFlowsIncoming();
        using var disposing = filter;

        // The bucket leaves incoming while a packet may still be between the state map and the foreign set: both flows stay.
        filter.Apply(new BucketAssignment(2, [], [], [5], [], [kept]));
        StringAssert.Contains(client.Batches[2], "add element inet farm_web foreign4 { 198.18.1.1 . 4000, 198.18.1.2 . 4002 }\n");

        time.Advance(NftablesPacketFilter.ForeignHold / 2);
        filter.RefreshLease(TimeSpan.FromMilliseconds(150));
        Assert.DoesNotContain("foreign4", client.Batches[3], "not before the hold");

        time.Advance(NftablesPacketFilter.ForeignHold);
        filter.RefreshLease(TimeSpan.FromMilliseconds(150));
        StringAssert.Contains(client.Batches[4], "timeout 150ms");
        StringAssert.Contains(client.Batches[4], "flush set inet farm_web foreign4\nadd element inet farm_web foreign4 { 198.18.1.1 . 4000 }\n");
        Assert.DoesNotContain("owned", client.Batches[4], "the batch that drops flows changes no state");

        filter.RefreshLease(TimeSpan.FromMilliseconds(150));
        filter.Apply(new BucketAssignment(3, [], [5], [], [], [kept]));
        Assert.DoesNotContain("foreign4", client.Batches[5], "dropped once");
        StringAssert.Contains(client.Batches[6], "add element inet farm_web foreign4 { 198.18.1.1 . 4000 }\n");
    }

    [TestMethod]
    public void Apply_SameSetsAsTheLastBatch_WritesNothingUntilTheTablesAreInstalledAgain()
    {
        var client = new RecordingNftablesClient();
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance, new FakeTimeProvider());
        filter.Install(Modules.Web());
        filter.Apply(new BucketAssignment(5, [0, 1], [2], [3]));

        filter.Apply(new BucketAssignment(5, [0, 1], [2], [3])); // a promise that moves none of this node's buckets
        filter.Apply(new BucketAssignment(6, [0, 1], [2], [3])); // the epoch is not in the kernel
        Assert.HasCount(2, client.Batches, "the kernel holds these sets already");

        filter.Apply(new BucketAssignment(6, [0, 1, 2], [], [3]));
        Assert.HasCount(3, client.Batches, "a changed set is written");
        filter.Install(Modules.Web());
        filter.Apply(new BucketAssignment(6, [0, 1, 2], [], [3]));
        Assert.HasCount(5, client.Batches, "a fresh table holds no bucket: written again");
        StringAssert.Contains(client.Batches[4], "add element inet farm_web owned { 0-2 }");
    }

    [TestMethod]
    public void Apply_SameSetsAfterARefreshDroppedAFlow_WritesTheFlowAgain()
    {
        var (client, time, filter, kept, back) = WithTwoFlowsIncoming();
        using var disposing = filter;
        filter.Apply(new BucketAssignment(1, [], [5], [], [], [kept])); // held: nothing to write
        Assert.HasCount(2, client.Batches);
        time.Advance(NftablesPacketFilter.ForeignHold * 2);
        filter.RefreshLease(TimeSpan.FromMilliseconds(150)); // drops the flow no longer listed

        filter.Apply(new BucketAssignment(1, [], [5], [], [], [kept, back]));

        Assert.HasCount(4, client.Batches, "the sets no longer hold what the first batch wrote");
        StringAssert.Contains(client.Batches[3], "add element inet farm_web foreign4 { 198.18.1.1 . 4000, 198.18.1.2 . 4002 }\n");
    }

    /// <summary>A filter on a fake clock whose bucket 5 is incoming with two UDP flows peers serve (198.18.1.1:4000, then 198.18.1.2:4002).</summary>
    private static (RecordingNftablesClient Client, FakeTimeProvider Time, NftablesPacketFilter Filter, IPEndPoint First, IPEndPoint Second) WithTwoFlowsIncoming()
    {
        var client = new RecordingNftablesClient();
        var time = new FakeTimeProvider();
        var filter = new NftablesPacketFilter(client, NullLogger.Instance, time);
        var first = IPEndPoint.Parse("198.18.1.1:4000");
        var second = IPEndPoint.Parse("198.18.1.2:4002");
        filter.Install(Modules.Web());
        filter.Apply(new BucketAssignment(1, [], [5], [], [], [first, second]));
        return (client, time, filter, first, second);
    }

    [TestMethod]
    public void Install_AfterFlowsWereHeld_TheFreshTableHoldsOnlyWhatTheNextApplyLists()
    {
        var client = new RecordingNftablesClient();
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance, new FakeTimeProvider());
        filter.Install(Modules.Web());
        filter.Apply(new BucketAssignment(1, [], [5], [], [], [IPEndPoint.Parse("198.18.1.2:4002")]));

        filter.Install(Modules.Web());
        filter.Apply(new BucketAssignment(2, [], [5], [], [], [IPEndPoint.Parse("198.18.1.1:4000")]));

        StringAssert.Contains(client.Batches[3], "flush set inet farm_web foreign4\nadd element inet farm_web foreign4 { 198.18.1.1 . 4000 }\n");
    }

    [TestMethod]
    public void Install_OtherModuleOnSameInstance_DeletesOldTablesInTheSameBatch()
    {
        var client = new RecordingNftablesClient();
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance);

        filter.Install(Modules.Web());
        filter.Install(Modules.Web(name: "api"));

        StringAssert.StartsWith(client.Batches[1], "add table inet farm_web\ndelete table inet farm_web\n");
        StringAssert.Contains(client.Batches[1], "table inet farm_api {");
    }

    [TestMethod]
    public void Remove_Installed_DeletesBothTablesOnce()
    {
        var client = new RecordingNftablesClient();
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance);
        filter.Install(Modules.Web());

        filter.Remove();
        filter.Remove();

        Assert.HasCount(2, client.Batches);
        StringAssert.Contains(client.Batches[1], "delete table inet farm_web");
        StringAssert.Contains(client.Batches[1], "delete table netdev farm_web");
        Assert.IsNull(filter.TableName);
    }

    [TestMethod]
    public void Dispose_Installed_RemovesAndReleasesClient()
    {
        var client = new RecordingNftablesClient();
        var filter = new NftablesPacketFilter(client, NullLogger.Instance);
        filter.Install(Modules.Web());

        filter.Dispose();
        filter.Dispose();

        Assert.HasCount(2, client.Batches);
        Assert.IsTrue(client.Disposed);
        Assert.ThrowsExactly<ObjectDisposedException>(() => filter.Install(Modules.Web()));
    }

    [TestMethod]
    public void ReadCounters_NftJson_ParsesPacketsAndBytesByName()
    {
        var client = new RecordingNftablesClient
        {
            ListAnswer = _ => """
                {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
                 {"counter": {"family": "inet", "name": "owned", "table": "farm_web", "handle": 7, "packets": 12, "bytes": 720}},
                 {"counter": {"family": "inet", "name": "rule_1", "table": "farm_web", "handle": 9, "packets": 3, "bytes": 180}}]}
                """,
        };
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance);
        filter.Install(Modules.Web());

        var counters = filter.ReadCounters();

        Assert.AreEqual(new CounterValue(12, 720), counters[FilterCounters.Owned]);
        Assert.AreEqual(new CounterValue(3, 180), counters[FilterCounters.Rule(1)]);
        Assert.AreEqual(default, counters[FilterCounters.Foreign]);
        Assert.AreEqual("list counters table inet farm_web", client.Lists.Single());
    }

    [TestMethod]
    public void RemoveLeftoverTables_MixedTables_DeletesOnlyFarmTablesNotKept()
    {
        var client = new RecordingNftablesClient
        {
            ListAnswer = _ => """
                table inet farm_old
                table netdev farm_old
                table inet farm_web
                table inet farmlive_web
                table inet filter
                table ip farm_ip
                """,
        };
        using var filter = new NftablesPacketFilter(client, NullLogger.Instance);

        var deleted = filter.RemoveLeftoverTables(new HashSet<string> { "farm_web" });

        CollectionAssert.AreEqual(new[] { "inet farm_old", "netdev farm_old" }, deleted.ToArray());
        CollectionAssert.AreEqual(new[] { "delete table inet farm_old\n", "delete table netdev farm_old\n" }, client.Batches);
    }
}
