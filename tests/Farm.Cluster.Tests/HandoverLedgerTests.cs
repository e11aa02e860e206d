using System.Collections.Immutable;
using System.Net;

namespace Farm.Cluster.Tests;

/// <summary>
/// The hand-over ledger of one node, driven directly: which buckets it keeps draining when it installs a view after
/// missed views (docs/architecture.md, "Connection-preserving hand-over").
/// </summary>
[TestClass]
public sealed class HandoverLedgerTests
{
    private const string Module = "web";
    private const int Buckets = 256;
    private static readonly MemberInfo N2 = new("n2", 1, 1, 0, false, [Module]);
    private static readonly MemberInfo N3 = new("n3", 1, 1, 0, false, [Module]);
    private static readonly MemberInfo N4 = new("n4", 1, 1, 0, false, [Module]);
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(10);

    [TestMethod]
    public void OnInstalled_MissedViewsOfItsLineage_HandedOverBucketsKeepDraining()
    {
        // n2 served all buckets in view 1, promised view 2 (base 1: 128-255 go to n3) and view 3 (base 2: 192-255 go on
        // to n4), missed both commits and installs 3 after 1.
        var ledger = NewLedger();
        var view1 = View(1, [N2], b => 0);
        var view2 = View(2, [N2, N3], b => b < 128 ? 0 : 1);
        var view3 = View(3, [N2, N3, N4], b => b < 128 ? 0 : b < 192 ? 1 : 2);
        ledger.OnInstalled(null, view1, continuous: false, fromScratch: true, Now);

        ledger.OnPromised(view1, view2, view1.Id, view1.Tables, Now);
        ledger.OnPromised(view1, view3, view2.Id, view2.Tables, Now);
        ledger.OnInstalled(view1, view3, continuous: false, fromScratch: false, Now + TimeSpan.FromMilliseconds(300));

        var states = States(ledger, view3, Now + TimeSpan.FromMilliseconds(300));
        Assert.IsTrue(states[128..].All(s => s == BucketState.Draining), string.Join(", ", states[128..].Distinct()));
        Assert.IsTrue(states[..128].All(s => s == BucketState.Claimed), "missed views: what it keeps is claimed until the others reported");
    }

    [TestMethod]
    public void OnInstalled_MissedViewsOfAnotherHistory_NothingKeepsDraining()
    {
        // n2 served all buckets in view 1 and promised view 2 (128-255 to n3), which it never installed; the others went
        // on in a history n2 took no part in (2@n3, where n3 holds 128-255 and never heard of a hand-over from n2). The
        // merge (4, base 2@n3) leaves 128-255 with n3, who owns them whole: n2 must not drain them.
        var ledger = NewLedger();
        var view1 = View(1, [N2], b => 0);
        var view2 = View(2, [N2, N3], b => b < 128 ? 0 : 1);
        var other = View(2, [N3], b => 0, coordinator: "n3");
        var merged = View(4, [N2, N3], b => b < 128 ? 0 : 1, coordinator: "n3");
        ledger.OnInstalled(null, view1, continuous: false, fromScratch: true, Now);
        ledger.OnPromised(view1, view2, view1.Id, view1.Tables, Now);

        ledger.OnPromised(view1, merged, other.Id, other.Tables, Now);
        ledger.OnInstalled(view1, merged, continuous: false, fromScratch: false, Now);

        var states = States(ledger, merged, Now);
        Assert.IsTrue(states[128..].All(s => s == BucketState.None), string.Join(", ", states[128..].Distinct()));
    }

    [TestMethod]
    public void OnInstalled_MissedViewsAfterTheDrainTimeout_HandedOverBucketsDoNotDrain()
    {
        var ledger = NewLedger();
        var view1 = View(1, [N2], b => 0);
        var view2 = View(2, [N2, N3], b => b < 128 ? 0 : 1);
        var view3 = View(3, [N2, N3], b => b < 128 ? 0 : 1);
        ledger.OnInstalled(null, view1, continuous: false, fromScratch: true, Now);
        ledger.OnPromised(view1, view2, view1.Id, view1.Tables, Now);
        ledger.OnPromised(view1, view3, view2.Id, view2.Tables, Now);

        // The drain counts from the release at the first promise: its timeout (2 s) has passed at the install.
        var late = Now + TimeSpan.FromSeconds(3);
        ledger.OnInstalled(view1, view3, continuous: false, fromScratch: false, late);

        var states = States(ledger, view3, late);
        Assert.IsTrue(states[128..].All(s => s == BucketState.None), string.Join(", ", states[128..].Distinct()));
    }

    [TestMethod]
    public void EndIdleDrains_ConntrackUnreadable_KeepsTheFlowsLastReported()
    {
        // n2 served every bucket, installs view 2 where 128-255 go to n3: they drain here. The first scan finds one UDP
        // flow in bucket 200; the next look at conntrack fails (no scan): the report must still list that flow, or n3,
        // which owns bucket 200 as incoming, would take the flow's next datagram as a new flow and answer it too.
        var ledger = NewLedger(tracksDrains: true);
        var view1 = View(1, [N2], b => 0);
        var view2 = View(2, [N2, N3], b => b < 128 ? 0 : 1);
        ledger.OnInstalled(null, view1, continuous: false, fromScratch: true, Now);
        ledger.OnInstalled(view1, view2, continuous: true, fromScratch: false, Now);
        var applied = ledger.Build(view2, view2.Id, [], Now);
        ledger.NoteSnapshot(applied, Now);
        var flow = new FlowKey(IPAddress.Parse("198.18.1.11"), 39566);

        ledger.EndIdleDrains(applied, new Dictionary<string, ModuleDrainScan> { [Module] = new(new HashSet<int> { 200 }, [flow]) }, out var scanned);
        ledger.Publish(scanned);
        ledger.EndIdleDrains(applied, new Dictionary<string, ModuleDrainScan>(), out var unread);

        Assert.AreEqual(flow, scanned.Find(Module)!.Flows.Single());
        Assert.HasCount(128, unread.Find(Module)!.Draining, "no scan: every drain stays busy");
        CollectionAssert.AreEqual(new[] { flow }, unread.Find(Module)!.Flows.ToArray(), "no scan: the flows last reported stay listed");
    }

    private static HandoverLedger NewLedger(bool tracksDrains = false) =>
        new(new MembershipOptions { ConfiguredNodes = ["n2", "n3", "n4"], TracksDrains = tracksDrains }, [new ModuleSpec(Module, Buckets, BucketMode.Balance, false) { DrainTimeout = TimeSpan.FromSeconds(2) }], N2);

    private static BucketState[] States(HandoverLedger ledger, ClusterView view, TimeSpan now) =>
        ledger.Build(view, view.Id, [], now).Modules[Module].States.ToArray();

    private static ClusterView View(long epoch, MemberInfo[] members, Func<int, int> owner, string coordinator = "n2") =>
        new(new ViewId(epoch, coordinator, 1), members, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create(Module, BucketTable.FromOwners(epoch, [.. members.Select(m => new BucketMember(m.Name))], [.. Enumerable.Range(0, Buckets).Select(b => (short)owner(b))]))]));
}
