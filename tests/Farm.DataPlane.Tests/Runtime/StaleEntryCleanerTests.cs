using System.Collections.Immutable;
using Farm.Testing.DataPlane;

namespace Farm.DataPlane.Tests.Runtime;

/// <summary>
/// The data plane deletes the conntrack entries it may no longer trust (<see cref="StaleEntryCleaner"/> under
/// <see cref="DataPlaneHost"/>), against a fake table: at start, when a bucket stops being served, and at a claim after
/// the node was out of the view; and only the module's entries of those buckets.
/// </summary>
[TestClass]
public sealed class StaleEntryCleanerTests(TestContext testContext) : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(150);
    private static readonly ModuleConfig Module = Modules.Web();
    private static readonly DrainScanner Scanner = new(Module);

    private readonly TestLogSink logs = new();
    private readonly FakeConntrackTable table = new();
    private readonly List<(int Applies, IReadOnlyList<TrackedFlow> Flows)> deletes = [];
    private readonly ManualResetEventSlim dumpsMayRun = new(true);
    private readonly SemaphoreSlim dumpsEntered = new(0);
    private FakeModuleDataPlane? plane;
    private StaleEntryCleaner? cleaner;

    [TestMethod]
    public void Start_EntriesOfTheModuleAndOthers_EveryModuleEntryDeletedTheOthersKept()
    {
        var (a, b) = (ClientIn(3), ClientIn(7));
        var otherVip = Udp(IPAddress.Parse("198.18.1.1"), IPAddress.Parse("198.18.9.9"), Modules.UdpPort);
        var otherPort = Udp(IPAddress.Parse("198.18.1.1"), Modules.Vip4, 9999);
        table.Flows = [Udp(a), Tcp(b), otherVip, otherPort];

        Start();

        CollectionAssert.AreEquivalent(new[] { otherVip, otherPort }, table.Flows.ToArray());
        Assert.AreEqual(0, deletes.Single().Applies, "before any bucket set reached the kernel");
        logs.AssertNoWarnings();
    }

    [TestMethod]
    public void Publish_BucketNoLongerServed_ItsEntriesDeletedOnceTheKernelDropsIt()
    {
        var host = Serving(Snapshot(1, rejoins: 0, (3, BucketState.Owned), (7, BucketState.Owned)), Udp(ClientIn(3)), Udp(ClientIn(7)));

        host.Publish(Snapshot(2, rejoins: 0, (7, BucketState.Owned)));

        WaitIdle();
        CollectionAssert.AreEqual(new[] { Udp(ClientIn(7)) }, table.Flows.ToArray());
        Assert.AreEqual(2, deletes[^1].Applies, "after the kernel took the sets without bucket 3");
        logs.AssertNoWarnings();
    }

    [TestMethod]
    public void Publish_BucketNoLongerServed_TheApplyDoesNotWaitForTheDeletion()
    {
        var host = Serving(Snapshot(1, rejoins: 0, (3, BucketState.Owned), (7, BucketState.Owned)), Udp(ClientIn(3)), Udp(ClientIn(7)));
        dumpsMayRun.Reset();

        host.Publish(Snapshot(2, rejoins: 0, (7, BucketState.Owned)));

        Assert.IsTrue(dumpsEntered.Wait(TimeSpan.FromSeconds(10)), "the cleaner's thread reads the table");
        Assert.HasCount(2, plane!.Applies, "the publish returned while the table is still being read");
        Assert.HasCount(2, table.Flows, "nothing deleted yet");
        dumpsMayRun.Set();
        WaitIdle();
        CollectionAssert.AreEqual(new[] { Udp(ClientIn(7)) }, table.Flows.ToArray());
    }

    [TestMethod]
    public async Task Publish_BucketServedAgainBeforeItsDeletionRan_DeletedBeforeTheKernelTakesIt()
    {
        var host = ServingBothThenHeldInTheDump(stays: 7); // bucket 3 leaves
        host.Publish(Snapshot(3, rejoins: 0)); // bucket 7 leaves too: its deletion waits behind
        Assert.HasCount(3, plane!.Applies);

        // Bucket 7 comes back while its deletion still waits: the apply must not reach the kernel before it ran.
        var back = Task.Run(() => host.Publish(Snapshot(4, rejoins: 0, (7, BucketState.Incoming))), testContext.CancellationToken);
        dumpsMayRun.Set();
        await back;

        WaitIdle();
        Assert.IsEmpty(table.Flows);
        Assert.HasCount(4, plane.Applies);
        var seven = deletes.Single(d => d.Flows.Contains(Udp(ClientIn(7))));
        Assert.AreEqual(3, seven.Applies, "bucket 7's old entries were deleted before the kernel took it back");
    }

    [TestMethod]
    public async Task Publish_BucketServedAgainWhileTheTableIsRead_TheLeaseRefreshDoesNotWait()
    {
        // The apply that serves bucket 7 again waits for the dump that deletes bucket 7's entries; the kernel lease of the
        // sets the kernel holds must still be refreshed meanwhile (chaos soak, 2026-12-05: a dump of a large table held
        // the data plane's lock ~150 ms and a healthy coordinator's lease ran out).
        var host = ServingBothThenHeldInTheDump(stays: 3); // bucket 7 leaves
        var back = Task.Run(() => host.Publish(Snapshot(3, rejoins: 0, (3, BucketState.Owned), (7, BucketState.Incoming))), testContext.CancellationToken);
        await Task.Delay(100, testContext.CancellationToken); // the publish is waiting for the dump by now
        int leases = plane!.Leases.Count;

        var refresh = Task.Run(() => host.RefreshLease(Lease), testContext.CancellationToken);
        bool refreshedWhileReading = await Task.WhenAny(refresh, Task.Delay(TimeSpan.FromSeconds(5), testContext.CancellationToken)) == refresh;
        int appliesWhileReading = plane.Applies.Count;
        dumpsMayRun.Set();
        await back;
        await refresh;

        Assert.IsTrue(refreshedWhileReading, "the lease refresh waited for the table to be read");
        Assert.AreEqual(leases + 1, plane.Leases.Count);
        Assert.AreEqual(2, appliesWhileReading, "bucket 7 reached the kernel before its old entries were deleted");
        WaitIdle();
        Assert.HasCount(3, plane.Applies);
        CollectionAssert.AreEqual(new[] { Udp(ClientIn(3)) }, table.Flows.ToArray());
    }

    [TestMethod]
    [DataRow(BucketState.Owned, BucketState.Draining, "a drain serves its tracked flows", DisplayName = "Publish_DrainingBucket_EntriesKept")]
    [DataRow(BucketState.Draining, BucketState.Claimed, "missed commits: the node served the bucket all along", DisplayName = "Publish_ClaimWhileInTheView_EntriesKept")]
    public void Publish_BucketStillServedInTheView_EntriesKept(BucketState from, BucketState to, string why)
    {
        var host = Serving(Snapshot(1, rejoins: 0, (3, from)), Udp(ClientIn(3)));

        host.Publish(Snapshot(2, rejoins: 0, (3, to)));

        Assert.HasCount(1, table.Flows, why);
    }

    [TestMethod]
    public void Publish_ClaimAfterBeingOutOfTheView_EntriesDeletedBeforeTheKernelTakesTheClaim()
    {
        var host = Serving(Snapshot(1, rejoins: 0, (3, BucketState.Draining)), Udp(ClientIn(3)), Udp(ClientIn(7)));

        // Paused, removed, and back: the view it promises derives from one without it.
        host.Publish(Snapshot(2, rejoins: 1, (3, BucketState.Incoming), (7, BucketState.Owned)));

        Assert.IsEmpty(table.Flows, "both served buckets lost the entries of before");
        Assert.AreEqual(1, deletes[^1].Applies, "deleted before the kernel got the sets of the claim");
    }

    [TestMethod]
    public async Task Publish_ClaimAfterBeingOutOfTheViewWhileTheTableIsRead_TheLeaseRefreshDoesNotWaitAndTheTableIsReadOnce()
    {
        var host = Serving(Snapshot(1, rejoins: 0, (3, BucketState.Draining)), Udp(ClientIn(3)), Udp(ClientIn(7)));
        dumpsMayRun.Reset();
        var claim = Task.Run(() => host.Publish(Snapshot(2, rejoins: 1, (3, BucketState.Incoming), (7, BucketState.Owned))), testContext.CancellationToken);
        Assert.IsTrue(dumpsEntered.Wait(TimeSpan.FromSeconds(10)), "the claim's deletion reads the table");
        int leases = plane!.Leases.Count;

        var refresh = Task.Run(() => host.RefreshLease(Lease), testContext.CancellationToken);
        bool refreshedWhileReading = await Task.WhenAny(refresh, Task.Delay(TimeSpan.FromSeconds(5), testContext.CancellationToken)) == refresh;
        dumpsMayRun.Set();
        await claim;
        await refresh;

        Assert.IsTrue(refreshedWhileReading, "the lease refresh waited for the claim's deletion");
        Assert.AreEqual(leases + 1, plane.Leases.Count);
        Assert.IsEmpty(table.Flows, "both served buckets lost the entries of before");
        Assert.AreEqual(1, deletes.Count(d => d.Applies == 1), "one read and delete, before the kernel got the claim");
        Assert.HasCount(2, plane.Applies);
    }

    [TestMethod]
    public void Publish_OlderSnapshotAfterARejoin_NoEntryDeleted()
    {
        // Snapshots reach the data plane unordered (a heartbeat's change is delivered behind it): one older than the
        // rejoin it follows carries a lower count and must not read as another rejoin (its deletion reset the sessions of
        // every draining bucket in a CI dry run).
        var host = Serving(Snapshot(2, rejoins: 1, (3, BucketState.Owned), (7, BucketState.Owned)), Udp(ClientIn(3)), Udp(ClientIn(7)));

        host.Publish(Snapshot(1, rejoins: 0, (3, BucketState.Draining), (7, BucketState.Owned)));

        WaitIdle();
        Assert.HasCount(2, table.Flows, "no entry of a served bucket deleted");
    }

    [TestMethod]
    public void Publish_TableCannotBeRead_WarnsAndTheKernelStillGetsTheSets()
    {
        var host = Start();
        host.Publish(Snapshot(1, rejoins: 0, (3, BucketState.Owned)));
        table.Failure = new IOException("ctnetlink refused");

        host.Publish(Snapshot(2, rejoins: 0));

        WaitIdle();
        Assert.HasCount(2, plane!.Applies);
        Assert.AreEqual(3501, logs.Problems().Single().Id.Id);
    }

    public void Dispose()
    {
        cleaner?.Dispose();
        logs.Dispose();
        dumpsMayRun.Dispose();
        dumpsEntered.Dispose();
    }

    /// <summary>
    /// Serves buckets 3 and 7 (a UDP flow each), then only <paramref name="stays"/>: the other bucket's deletion runs on the
    /// cleaner's thread and is held in its read of the table until <c>dumpsMayRun</c> is set.
    /// </summary>
    private DataPlaneHost ServingBothThenHeldInTheDump(int stays)
    {
        var host = Serving(Snapshot(1, rejoins: 0, (3, BucketState.Owned), (7, BucketState.Owned)), Udp(ClientIn(3)), Udp(ClientIn(7)));
        dumpsMayRun.Reset();
        host.Publish(Snapshot(2, rejoins: 0, (stays, BucketState.Owned)));
        Assert.IsTrue(dumpsEntered.Wait(TimeSpan.FromSeconds(10)), "the cleaner's thread reads the table");
        return host;
    }

    private void WaitIdle() => Assert.IsTrue(cleaner!.WaitIdle(TimeSpan.FromSeconds(10)), "the cleaner's pending deletions ran");

    private DataPlaneHost Start()
    {
        var backend = new FakeBackend();
        cleaner = new StaleEntryCleaner(new RecordingTable(this), logs.CreateLogger<StaleEntryCleaner>());
        var host = new DataPlaneHost([Module], backend, NullLogger<DataPlaneHost>.Instance) { Cleaner = cleaner };
        host.Start();
        plane = backend.Planes.Single();
        return host;
    }

    /// <summary>Starts the host, publishes <paramref name="first"/> with its lease, and lets the table track <paramref name="flows"/>.</summary>
    private DataPlaneHost Serving(OwnershipSnapshot first, params TrackedFlow[] flows)
    {
        var host = Start();
        host.Publish(first);
        host.RefreshLease(Lease);
        table.Flows = [.. flows];
        return host;
    }

    private static OwnershipSnapshot Snapshot(long version, long rejoins, params (int Bucket, BucketState State)[] states)
    {
        var all = new BucketState[Module.Buckets];
        foreach (var (bucket, state) in states)
        {
            all[bucket] = state;
        }

        var view = new ViewId(version, "n1", 1);
        var modules = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create(Module.Name, new ModuleOwnership(Module.Name, all, []))]);
        return new OwnershipSnapshot(version, view, view, modules, rejoins);
    }

    /// <summary>A client address whose flows the module hashes into <paramref name="bucket"/>.</summary>
    private static IPAddress ClientIn(int bucket)
    {
        for (int i = 1; ; i++)
        {
            var client = new IPAddress([198, 18, (byte)(i >> 8), (byte)i]);
            if (Scanner.BucketOf(Udp(client)) == bucket)
            {
                return client;
            }
        }
    }

    private static TrackedFlow Udp(IPAddress client, IPAddress? vip = null, int port = Modules.UdpPort) =>
        new(TransportProtocol.Udp, client, 40000, vip ?? Modules.Vip4, port, Live: true);

    private static TrackedFlow Tcp(IPAddress client) => new(TransportProtocol.Tcp, client, 40001, Modules.Vip4, Modules.TcpPort, Live: true);

    /// <summary>The fake table, noting how many applies the kernel had seen at each delete.</summary>
    private sealed class RecordingTable(StaleEntryCleanerTests test) : IConntrackTable
    {
        public IReadOnlyList<TrackedFlow> Dump()
        {
            test.dumpsEntered.Release();
            test.dumpsMayRun.Wait();
            return test.table.Dump();
        }

        public IReadOnlyList<TrackedFlow?> Lookup(IReadOnlyList<TrackedFlow> flows) => test.table.Lookup(flows);

        public IReadOnlyList<TrackedFlow?> Delete(IReadOnlyList<TrackedFlow> flows)
        {
            test.deletes.Add((test.plane?.Applies.Count ?? 0, flows));
            return test.table.Delete(flows);
        }
    }
}
