namespace Farm.Cluster.Tests;

/// <summary>
/// <see cref="MembershipManager.SetModule"/>: modules loaded, redefined and unloaded while the nodes run, in the
/// simulation (every 10 ms the invariants hold: one acceptor per bucket, no bucket owned while another node drains it,
/// one definition serving).
/// </summary>
[TestClass]
public sealed class LiveModuleTests
{
    private static readonly ModuleSpec Api = new("api", 512, BucketMode.Balance, false) { Hash = "api-1", Settings = ["buckets=512"], DrainTimeout = TimeSpan.FromSeconds(2) };

    [TestMethod]
    public void SetModule_NewModuleOnOneNodeAfterAnother_ServedByAllWebTableNeverMoves()
    {
        var sim = new SimCluster(3, SplitBrainPolicy.None, seed: 61).StartAll();
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        var web = sim["n01"].Manager!.Installed!.Tables[SimCluster.Module];
        int installsBefore = sim.Installs.Count;

        foreach (var node in sim.Nodes)
        {
            var m = node.Manager!;
            m.SetModule("api", Api, sim.Now);
            m.UpdateSelf(m.Self with { ReadyModules = [.. m.Self.ReadyModules.Append("api").Order(StringComparer.Ordinal)] });
            sim.RunFor(TimeSpan.FromSeconds(1));
        }

        sim.RunFor(TimeSpan.FromSeconds(3)); // hand-overs between the nodes settle
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        Assert.IsTrue(sim.Installs.Count > installsBefore, "views changed while api was loaded");
        foreach (var (_, node, view) in sim.Installs.Skip(installsBefore))
        {
            var table = view.Tables[SimCluster.Module];
            Assert.IsTrue(Enumerable.Range(0, web.BucketCount).All(b => table.OwnerOf(b) == web.OwnerOf(b)), $"{node} installed {view.Id}: web's buckets moved");
        }

        var api = sim["n02"].Manager!.Installed!.Tables["api"];
        Assert.IsTrue(sim.Nodes.All(n => api.CountOf(n.Name) > 0), sim.Describe());
        Assert.IsTrue(sim.Nodes.All(n => n.Manager!.Ownership.Modules["api"].Owned == api.CountOf(n.Name)),
            "each node's states follow the api table: " + string.Join(", ", sim.Nodes.Select(n => $"{n.Name} {n.Manager!.Ownership.Modules["api"]} of {api.CountOf(n.Name)}")));
    }

    [TestMethod]
    public void SetModule_Unloaded_NoDefinitionAnnouncedTableGoneOnceNoNodeRunsIt()
    {
        var sim = new SimCluster(2, SplitBrainPolicy.None, seed: 62).StartAll();
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        foreach (var node in sim.Nodes)
        {
            node.Manager!.SetModule("api", Api, sim.Now);
        }

        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.IsTrue(sim["n01"].Manager!.Installed!.Tables.ContainsKey("api"));

        foreach (var node in sim.Nodes)
        {
            node.Manager!.SetModule("api", null, sim.Now);
            Assert.IsNull(node.Manager.Self.DefinitionOf("api"));
            Assert.IsFalse(node.Manager.Ownership.Modules.ContainsKey("api"));
        }

        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        Assert.IsFalse(sim["n02"].Manager!.Installed!.Tables.ContainsKey("api"), sim.Describe());
    }

    [TestMethod]
    [DataRow(3, 256, true, DisplayName = "3 nodes, seed changed")]
    [DataRow(3, 512, true, DisplayName = "3 nodes, bucket count changed")]
    [DataRow(2, 256, true, DisplayName = "2 nodes, seed changed")]
    [DataRow(2, 256, false, DisplayName = "2 nodes, seed changed, no drain tracking")]
    [DataRow(-2, 256, false, DisplayName = "2 nodes, the first reloaded started last, seed changed")]
    [DataRow(-3, 512, true, DisplayName = "3 nodes, the first reloaded started last, bucket count changed")]
    public void SetModule_RollingRedefinition_OneDefinitionServesAtATimeAndAllServeTheNewOne(int nodes, int newBuckets, bool tracksDrains)
    {
        // Drains end when their bucket is idle: a quarter of the buckets hold connections until the drain timeout.
        var sim = new SimCluster(Math.Abs(nodes), SplitBrainPolicy.None, seed: 63, tracksDrains: tracksDrains) { DrainBusy = (_, b) => b % 4 == 0 }.StartAll();
        if (nodes < 0)
        {
            // n01 restarted: the others run longer, so their (old) definition wins ties until they reload.
            sim.RunFor(TimeSpan.FromSeconds(3));
            sim.Restart("n01");
            sim.RunFor(TimeSpan.FromSeconds(3));
        }

        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        var next = sim.Modules[0] with { BucketCount = newBuckets, Hash = "mod-2", Settings = ["seed=2", $"buckets={newBuckets}"] };
        bool sawForeignDrain = false;

        foreach (var node in sim.Nodes)
        {
            // farmd's reload: the gate closes (not ready), the buckets go to the others and drain here, then the new
            // definition is loaded and the module opens again.
            var m = node.Manager!;
            m.UpdateSelf(m.Self with { ReadyModules = [] });
            Step(sim, TimeSpan.FromSeconds(4), ref sawForeignDrain);
            Assert.AreEqual((0, 0, 0, 0), States(m), $"{node.Name} handed everything over before its reload\n{sim.Describe()}");

            m.SetModule(SimCluster.Module, next, sim.Now);
            m.UpdateSelf(m.Self with { ReadyModules = [SimCluster.Module] });
            Step(sim, TimeSpan.FromSeconds(4), ref sawForeignDrain);
        }

        Assert.IsTrue(sawForeignDrain, "the node left with the old definition drained while the new ones took over");
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        var table = sim["n01"].Manager!.Installed!.Tables[SimCluster.Module];
        Assert.AreEqual(newBuckets, table.BucketCount);
        Assert.IsTrue(sim.Nodes.All(n => table.CountOf(n.Name) > 0 && n.Manager!.ModuleMismatches.Count == 0), sim.Describe());
    }

    /// <summary>
    /// Runs in 10 ms steps (the invariants are checked at every event); notes when a node of one definition drained while
    /// one of another held buckets: those must all be incoming or claimed (new connections only), never owned.
    /// </summary>
    private static void Step(SimCluster sim, TimeSpan duration, ref bool sawForeignDrain)
    {
        for (var end = sim.Now + duration; sim.Now < end;)
        {
            sim.RunFor(TimeSpan.FromMilliseconds(10));
            foreach (var drainer in sim.Nodes.Where(n => n.Manager!.Ownership.Modules[SimCluster.Module].Draining > 0))
            {
                foreach (var other in sim.Nodes.Where(n => Hash(n) != Hash(drainer) && n.KernelAccepts(sim.Now)))
                {
                    var theirs = other.Manager!.Ownership.Modules[SimCluster.Module];
                    if (theirs.Incoming + theirs.Claimed > 0)
                    {
                        sawForeignDrain = true;
                    }

                    Assert.AreEqual(0, theirs.Owned, $"{other.Name} owns buckets whole while {drainer.Name} (another definition) drains\n{sim.Describe()}");
                }
            }
        }
    }

    private static string? Hash(SimNode node) => node.Manager!.Self.DefinitionOf(SimCluster.Module)?.Hash;

    private static (int, int, int, int) States(MembershipManager m)
    {
        var o = m.Ownership.Modules[SimCluster.Module];
        return (o.Owned, o.Incoming, o.Claimed, o.Draining);
    }
}
