using Farm.Testing.Nftables;

namespace Farm.EndToEnd.Tests.Farmd;

/// <summary>
/// Fail closed on a real nft error, on the shared farm: the kernel of one node refuses every change farmd makes to
/// web's table (the table is replaced by an identical copy that another netlink socket owns, so the kernel answers
/// EPERM), that node stops holding a lease and gives its buckets to the others, whose kernels serve its clients; once
/// the kernel takes farmd's changes again (the owner's socket closes and the kernel drops the copy), farmd rebuilds
/// the table and the node gets its share back.
/// </summary>
public sealed partial class FarmdFarmTests
{
    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task KernelRefusesNftUpdates_OneNode_PeersTakeItsBucketsThenItComesBack()
    {
        const int victim = 1;
        string victimName = FarmFixture.NodeName(victim);
        var victimClients = Client0.Addresses4.Select(a => new IPEndPoint(a, 0)).Where(s => Owners[Farm.BucketOf(s, Affinity.ClientIp)] == victimName).Take(30).ToArray();
        Assert.IsNotEmpty(victimClients, "client0 has no address in node1's buckets");
        var daemon = Farm.Daemon(victim);
        var watch = Stopwatch.StartNew();
        var total = Stopwatch.StartNew();

        var seized = await SeizedNftTable.SeizeAsync(Farm.Nodes[victim].Namespace, "inet", "farm_" + FarmdScenario.ModuleName);
        try
        {
            // farmd hears EPERM on its next lease refresh, withdraws nothing it could (the kernel refuses that too) and
            // announces web not ready: the peers take its buckets through the membership protocol.
            await Poll.UntilAsync(() => Task.FromResult(daemon.Output), o => o.Contains("the kernel refused an update", StringComparison.Ordinal), "node1 logs the refusal", TimeSpan.FromSeconds(5), Ct);
            StringAssert.Contains(daemon.Output, "Operation not permitted");
            var (owners, problem) = await Poll.UntilAsync(
                () => FarmdGroup.TrySplitBucketsAsync([(0, Farm.Nodes[0].Namespace), (2, Farm.Nodes[2].Namespace)], FarmdScenario.ModuleName, Farm.Module.Buckets, Ct),
                r => r.Owners is not null,
                "node0 and node2 own every web bucket in their kernels",
                TimeSpan.FromSeconds(15),
                Ct,
                TimeSpan.FromMilliseconds(100));
            TestContext.WriteLine($"node1's table seized: node0 and node2 own all {Farm.Module.Buckets} buckets after {watch.ElapsedMilliseconds} ms ({problem})");

            // node1 stays a member but holds none of web, and its kernel (the copy farmd cannot touch) holds no lease.
            using (var admin = Farm.Daemon(0).CreateAdminClient())
            {
                var seen = (await admin.GetStatusAsync(Ct)).Nodes.Single(n => n.Name == victimName);
                Assert.AreEqual(0, seen.Buckets.SingleOrDefault(b => b.Module == FarmdScenario.ModuleName)?.Buckets ?? 0, "node0's view still gives node1 web buckets");
            }

            // Read as text: nft 1.0.6 prints an owned table's flags as broken JSON, so FilterTableState cannot read it.
            foreach (string set in (string[])["lease4", "lease6"])
            {
                string listing = (await Farm.Nodes[victim].Namespace.NftAsync(["list", "set", "inet", "farm_" + FarmdScenario.ModuleName, set], cancellationToken: Ct)).StandardOutput;
                Assert.DoesNotContain("elements", listing, $"node1's kernel still holds a lease nobody can refresh:\n{listing}");
            }

            // node1's former clients (and everyone else) are served by the node the survivors' kernels name.
            var names = owners!.Select(FarmFixture.NodeName).ToArray();
            var answers = await FarmClients.AskTcpAsync(Client0.Namespace, victimClients, FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPort, AskTimeout);
            AssertAnswers(victimClients, [.. victimClients.Select(s => names[Farm.BucketOf(s, Affinity.ClientIp)])], answers);
            await AssertTcpAnsweredByOwnersAsync(Client1, 60, names);
            TestContext.WriteLine($"{victimClients.Length} clients of node1 served by: {Distribution(answers)}");
        }
        finally
        {
            // The owner's socket closes: the kernel deletes the copy, so farmd's next try rebuilds web's table.
            seized.Dispose();
        }

        watch.Restart();
        var after = await Farm.WaitWebSettledAsync([0, 1, 2], TimeSpan.FromSeconds(20), Ct);
        TestContext.WriteLine($"kernel takes farmd's changes again: node1 back with its share after {watch.ElapsedMilliseconds} ms");
        StringAssert.Contains(daemon.Output, "the kernel holds the bucket sets of epoch");
        Assert.Contains(victimName, after, "node1 got no bucket back");
        var again = await FarmClients.AskTcpAsync(Client0.Namespace, victimClients, FarmdScenario.Vip4, FarmdScenario.Vip6, FarmdScenario.ClientIpPort, AskTimeout);
        AssertAnswers(victimClients, [.. victimClients.Select(s => after[Farm.BucketOf(s, Affinity.ClientIp)])], again);
        TestContext.WriteLine($"refusal, takeover and return in {total.ElapsedMilliseconds} ms (the farm's setup not counted)");
    }
}
