using System.Collections.Immutable;

namespace Farm.Cluster.Tests;

[TestClass]
public sealed class ModuleAgreementTests
{
    private static readonly ModuleSpec Web = new("web", 256, BucketMode.Balance, false) { Hash = "h1", Settings = ["seed=1", "buckets=256"] };

    private static ModuleDefinition Def(string hash, int buckets = 256, string seed = "1") =>
        new("web", hash, buckets, BucketMode.Balance, false, [$"seed={seed}", $"buckets={buckets}"]);

    private static MemberInfo Member(string name, long incarnation, ModuleDefinition? def, bool ready = true) =>
        new(name, incarnation, 100, 0, false, ready ? ["web"] : []) { Definitions = def is null ? [] : [def] };

    [TestMethod]
    public void Agreed_MajorityHash_Wins()
    {
        var agreed = ModuleAgreement.Agreed("web", [Member("a", 1, Def("h2", seed: "2")), Member("b", 5, Def("h1")), Member("c", 6, Def("h1"))]);

        Assert.AreEqual("h1", agreed!.Hash);
    }

    [TestMethod]
    public void Agreed_Tie_LongestRunningMemberWinsThenLowestName()
    {
        // b started first (lower incarnation): a restarted with another file does not take the module from it.
        Assert.AreEqual("h1", ModuleAgreement.Agreed("web", [Member("a", 9, Def("h2", seed: "2")), Member("b", 3, Def("h1"))])!.Hash);
        Assert.AreEqual("h2", ModuleAgreement.Agreed("web", [Member("a", 3, Def("h2", seed: "2")), Member("b", 3, Def("h1"))])!.Hash);
    }

    [TestMethod]
    public void Agreed_MembersWithTheModuleReady_CountFirst()
    {
        // b and c reload to h2 one after the other; c is not ready yet: a's old h1 stays agreed only while it is ready.
        Assert.AreEqual("h2", ModuleAgreement.Agreed("web", [Member("a", 1, Def("h1"), ready: false), Member("b", 2, Def("h2", seed: "2")), Member("c", 3, Def("h1"), ready: false)])!.Hash);
        Assert.AreEqual("h1", ModuleAgreement.Agreed("web", [Member("a", 1, Def("h1")), Member("b", 2, Def("h2", seed: "2")), Member("c", 3, Def("h1"), ready: false)])!.Hash);
        Assert.AreEqual("h1", ModuleAgreement.Agreed("web", [Member("a", 1, Def("h1"), ready: false), Member("b", 2, Def("h2", seed: "2"), ready: false), Member("c", 3, Def("h1"), ready: false)])!.Hash);
    }

    [TestMethod]
    public void Agreed_ReadyMemberWithoutDefinition_NoAgreement()
    {
        // A node of an older release serves the module: it computes tables without agreement, so everyone must.
        Assert.IsNull(ModuleAgreement.Agreed("web", [Member("a", 1, null), Member("b", 2, Def("h1"))]));
        Assert.AreEqual("h1", ModuleAgreement.Agreed("web", [Member("a", 1, null, ready: false), Member("b", 2, Def("h1"))])!.Hash);
    }

    [TestMethod]
    public void ComputeTables_MemberWithOtherDefinition_GetsNoBucketsOthersShareAll()
    {
        var members = new[] { Member("a", 1, Def("h1")), Member("b", 2, Def("h2", seed: "2")), Member("c", 3, Def("h1")) };

        var table = ClusterView.ComputeTables(null, members, [Web], 1)["web"];

        Assert.AreEqual(0, table.CountOf("b"));
        Assert.AreEqual(256, table.CountOf("a") + table.CountOf("c"));
    }

    [TestMethod]
    public void ComputeTables_LocalBucketCountDiffers_ComputesTheAgreedShape()
    {
        // Every node computes the same table, also the one whose own file says 512 buckets: the view's fingerprint holds.
        var members = new[] { Member("a", 1, Def("h1")), Member("b", 2, Def("h3", 512)), Member("c", 3, Def("h1")) };
        var local512 = Web with { BucketCount = 512, Hash = "h3" };

        var onA = ClusterView.ComputeTables(null, members, [Web], 1);
        var onB = ClusterView.ComputeTables(null, members, [local512], 1);

        Assert.AreEqual(256, onB["web"].BucketCount);
        Assert.AreEqual(ClusterView.ComputeFingerprint(onA), ClusterView.ComputeFingerprint(onB));
    }

    [TestMethod]
    public void ComputeTables_ModuleAnnouncedByAMemberOnly_SameTablesOnNodesWithAndWithoutIt()
    {
        // a loaded module "api" live (512 buckets); b and c did not yet: all three compute the same tables.
        var api = new ModuleDefinition("api", "a1", 512, BucketMode.Balance, false, ["buckets=512"]);
        var members = new[]
        {
            new MemberInfo("a", 1, 100, 0, false, ["api", "web"]) { Definitions = [api, Def("h1")] },
            Member("b", 2, Def("h1")),
            Member("c", 3, Def("h1")),
        };
        var apiSpec = new ModuleSpec("api", 512, BucketMode.Balance, false) { Hash = "a1" };

        var onA = ClusterView.ComputeTables(null, members, [Web, apiSpec], 1);
        var onB = ClusterView.ComputeTables(null, members, [Web], 1);

        CollectionAssert.AreEqual(new[] { "api", "web" }, onB.Keys.ToArray());
        Assert.AreEqual((512, 512), (onB["api"].BucketCount, onB["api"].CountOf("a")), "only a runs api: it owns every bucket");
        Assert.AreEqual(ClusterView.ComputeFingerprint(onA), ClusterView.ComputeFingerprint(onB));
    }

    [TestMethod]
    public void ComputeTables_LocalModuleNobodyAnnounces_NoTable()
    {
        // Unloaded everywhere (no member announces it): no node keeps a table for it, whatever it still has.
        var tables = ClusterView.ComputeTables(null, [Member("a", 1, Def("h1"))], [Web, new ModuleSpec("gone", 256, BucketMode.Balance, false) { Hash = "g1" }], 1);

        CollectionAssert.AreEqual(new[] { "web" }, tables.Keys.ToArray());
    }

    [TestMethod]
    public void Mismatches_View_NamesModuleNodeAndSettings()
    {
        var view = new ClusterView(new ViewId(1, "a", 1),
            [Member("a", 1, Def("h1")), Member("b", 2, Def("h3", 512, seed: "9")), Member("c", 3, Def("h1"))],
            ImmutableSortedDictionary<string, BucketTable>.Empty);

        var mismatch = ModuleAgreement.Mismatches(view, ["web"]).Single();

        Assert.AreEqual(("web", "b", "h3", "h1"), (mismatch.Module, mismatch.Node, mismatch.TheirHash, mismatch.AgreedHash));
        CollectionAssert.AreEqual(new[] { "seed", "buckets" }, mismatch.Settings.ToArray());
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Simulation_NodeWithOtherDefinition_HoldsNoBucketsOfTheModuleAndStatusSaysWhy(bool otherBucketCount)
    {
        var sim = new SimCluster(3, SplitBrainPolicy.None, seed: 41);
        var other = otherBucketCount
            ? sim.Modules[0] with { BucketCount = 512, Hash = "mod-3", Settings = ["seed=1", "buckets=512"] }
            : sim.Modules[0] with { Hash = "mod-2", Settings = ["seed=2"] };
        sim.ModuleOf = name => name == "n01" ? other : sim.Modules[0];
        sim.StartAll();

        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());

        var view = sim["n02"].Manager!.Installed!;
        Assert.AreEqual(3, view.Members.Length);
        Assert.AreEqual(0, view.Tables[SimCluster.Module].CountOf("n01"));
        Assert.AreEqual(0, sim["n01"].Manager!.Ownership.Modules[SimCluster.Module].Owned);
        var mismatch = sim["n01"].Manager!.ModuleMismatches.Single();
        Assert.AreEqual("n01", mismatch.Node);
        CollectionAssert.AreEqual(otherBucketCount ? new[] { "buckets" } : new[] { "seed" }, mismatch.Settings.ToArray());
    }

    [TestMethod]
    public void Simulation_DefinitionFixedAndRestarted_NodeGetsBucketsAgain()
    {
        var sim = new SimCluster(2, SplitBrainPolicy.None, seed: 43);
        bool fixedFile = false;
        sim.ModuleOf = name => name == "n02" && !fixedFile ? sim.Modules[0] with { Hash = "mod-2", Settings = ["seed=2"] } : sim.Modules[0];
        sim.StartAll();
        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        var before = sim["n01"].Manager!.Installed!.Tables[SimCluster.Module];
        Assert.AreEqual(0, before.CountOf("n02") * before.CountOf("n01"), "one of the two holds no bucket");

        fixedFile = true;
        sim.Restart("n02");
        sim.RunFor(TimeSpan.FromSeconds(1));

        Assert.IsTrue(sim.RunUntilConverged(TimeSpan.FromSeconds(10), out _), sim.Describe());
        var after = sim["n01"].Manager!.Installed!.Tables[SimCluster.Module];
        Assert.IsTrue(after.CountOf("n01") > 0 && after.CountOf("n02") > 0, sim.Describe());
        Assert.AreEqual(0, sim["n01"].Manager!.ModuleMismatches.Count);
    }
}
