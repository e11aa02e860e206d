namespace Farm.DataPlane.Tests.Kernel;

/// <summary>Stopping the data plane, cleanly or after a crash, leaves a node namespace exactly as it found it.</summary>
[TestClass]
public sealed class CleanupTests : KernelTestClass
{
    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    [DataRow(VmacMode.UnicastFilter)]
    [DataRow(VmacMode.Promiscuous)]
    public async Task StopAndRemove_AfterFullStart_LeaveNoTableAddressSysctlFdbOrPromiscuity(VmacMode mode)
    {
        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct);
        var node = topology.Nodes[0];
        var module = Modules.Web(vmacMode: mode);
        string state = Directory.CreateTempSubdirectory("farm-cleanup-").FullName;
        var logs = new TestLogSink();
        string before = await SnapshotAsync(node);

        var started = await node.Namespace.RunAsync(() =>
        {
            var filter = new NftablesPacketFilter(logs.CreateLogger<NftablesPacketFilter>());
            filter.Install(module);
            filter.Apply(new BucketAssignment(1, [1, 2, 3], [4], [5]));
            filter.RefreshLease(TimeSpan.FromMinutes(1));
            var vips = new VipManager(state, logs.CreateLogger<VipManager>());
            vips.Start(module);
            var responder = NeighborResponder.Open(module, TimeProvider.System, logs.CreateLogger<NeighborResponder>());
            responder.Start();
            return (filter, vips, responder);
        });
        string during = await SnapshotAsync(node);

        await node.Namespace.RunAsync(() =>
        {
            started.responder.Dispose();
            started.vips.Stop();
            started.filter.Remove();
            started.filter.Dispose();
        });
        string after = await SnapshotAsync(node);
        Directory.Delete(state, recursive: true);

        TestContext.WriteLine("While running:\n" + during);
        StringAssert.Contains(during, "table inet farm_web");
        StringAssert.Contains(during, "198.18.0.100/32");
        StringAssert.Contains(during, "arp_ignore = 1");
        StringAssert.Contains(during, mode == VmacMode.Promiscuous ? "promiscuity 1" : "02:46:c6:12:00:64 self permanent");
        Assert.AreEqual(before, after);
        logs.AssertNoWarnings();
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Start_AfterCrashedRun_RemovesLeftoverTablesAddressesAndRestoresSysctls()
    {
        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct);
        var node = topology.Nodes[0];
        var module = Modules.Web();
        string state = Directory.CreateTempSubdirectory("farm-crash-").FullName;
        var logs = new TestLogSink();
        string before = await SnapshotAsync(node);

        // The "crashed" run: everything set up, nothing stopped (the objects are simply abandoned, as a killed process
        // would; its netlink socket closes, which deletes the live table it owns).
        await node.Namespace.RunAsync(() =>
        {
            var client = new LibNftablesClient();
            var filter = new NftablesPacketFilter(client, logs.CreateLogger<NftablesPacketFilter>());
            filter.Install(module);
            new VipManager(state, logs.CreateLogger<VipManager>()).Start(module);
            client.Dispose();
        });
        string crashed = await SnapshotAsync(node);
        Assert.AreNotEqual(before, crashed);

        // The next run: a daemon sweeps farm_* tables and the VIP manager undoes the recorded changes, then runs normally.
        var deleted = await node.Namespace.RunAsync(() =>
        {
            using var filter = new NftablesPacketFilter(logs.CreateLogger<NftablesPacketFilter>());
            var leftovers = filter.RemoveLeftoverTables();
            var vips = new VipManager(state, logs.CreateLogger<VipManager>());
            vips.Start(module);
            filter.Install(module);
            vips.Stop();
            filter.Remove();
            return leftovers;
        });
        string after = await SnapshotAsync(node);
        Directory.Delete(state, recursive: true);

        CollectionAssert.AreEquivalent(new[] { "inet farm_web", "netdev farm_web" }, deleted.ToArray());
        Assert.AreEqual(before, after);
        Assert.IsTrue(logs.Problems().Any(p => p.Message.Contains("did not stop cleanly", StringComparison.Ordinal)), "the recovery is logged");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Start_AfterCrashedRunAndReboot_UndoesWhatIsLeftAndStarts()
    {
        var module = Modules.Web();
        string state = Directory.CreateTempSubdirectory("farm-reboot-").FullName;
        var logs = new TestLogSink();

        // The crashed run's node then "reboots": its namespace goes, and with it the VIP address, the sysctls and the
        // unicast entry; only the state directory stays (as /var/lib/farm does).
        await using (var crashed = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct))
        {
            await crashed.Nodes[0].Namespace.RunAsync(() => new VipManager(state, logs.CreateLogger<VipManager>()).Start(module));
        }

        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 0 }, cancellationToken: Ct);
        var node = topology.Nodes[0];
        string before = await SnapshotAsync(node);
        var vips = await node.Namespace.RunAsync(() =>
        {
            var manager = new VipManager(state, logs.CreateLogger<VipManager>());
            manager.Start(module);
            return manager;
        });
        string during = await SnapshotAsync(node);
        await node.Namespace.RunAsync(vips.Stop);
        string after = await SnapshotAsync(node);
        Directory.Delete(state, recursive: true);

        StringAssert.Contains(during, "198.18.0.100/32");
        Assert.AreEqual(before, after);
        Assert.IsTrue(logs.Problems().Any(p => p.Message.Contains("did not stop cleanly", StringComparison.Ordinal)), "the recovery is logged");
    }

    private Task<string> SnapshotAsync(TopologyHost node) => NamespaceSnapshot.TakeAsync(node.Namespace, node.InterfaceName, Ct);
}
