using Farm.Cli;
using Farm.Testing.Nftables;

namespace Farm.EndToEnd.Tests.Modules;

/// <summary>
/// A table-shaping change made by hand, with real farmd, the real kernel and long-lived TCP sessions: module web's
/// farm.yaml is edited on three nodes (a new seed: every client's bucket changes) and <c>farmctl module reload web</c>
/// rolls it node after node while 200 sessions exchange a message every 50 ms. Each node's sessions stay with it, are
/// answered until the client closes them (which is what lets that node's drain end and its reload go on), and no
/// session is reset, stalls, changes node or is answered by two; afterwards every kernel hashes with the new seed and
/// new sessions are all served, each by one node.
/// </summary>
[TestClass]
public sealed class FolderReloadTests(TestContext testContext)
{
    private const int Sessions = RebalanceScenario.ClientAddresses;
    private static readonly TimeSpan LongDrain = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private FarmFixture? farm;

    [TestInitialize]
    public async Task InitializeAsync() => await Requirements.NamespacesAsync(needNft: true);

    [TestCleanup]
    public Task CleanupAsync() => TestFarm.EndAsync(farm, testContext);

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public async Task ReloadWeb_SeedEditedOnEveryNode_SessionsKeepTheirNodeUntilClosedNoneResetAndNewSessionsServed()
    {
        var ct = testContext.CancellationToken;
        farm = await RebalanceScenario.StartAsync(running: 3, LongDrain, ct);
        await using var load = await SessionLoad.StartAsync(farm.Client.Namespace, farm.Sources(), [RebalanceScenario.Vip], RebalanceScenario.TcpPort, cancellationToken: ct);
        await load.WaitUntilAsync(s => s.Open == Sessions && s.MinRoundTrips >= 3, Settle, ct);

        // The nodes of this fixture share one modules folder (as if the same edit were made on each machine).
        FarmConfigFiles.WriteModule(farm.Options.Modules.Single() with { Seed = 7 }, Path.Combine(farm.Root, "modules"));

        var reloading = Task.Run(() => Farmctl("module", "reload", RebalanceScenario.ModuleName, "--node", "node0", "--node", "node1", "--node", "node2"), ct);

        // Node after node: a node drains at its own reload, or earlier, once the farm has agreed on the new definition while
        // it still runs the old one (one definition serves new flows at a time); either way its sessions have lived
        // through every reload before its own. The client then closes them (answered by that node all along), which ends
        // its drain and lets its reload go on.
        for (int i = 0; i < 3; i++)
        {
            string node = FarmFixture.NodeName(i);
            var onNode = Enumerable.Range(0, load.Count).Where(s => load.NodeOf(s) == node).ToHashSet();
            Assert.IsGreaterThan(20, onNode.Count, $"{node} holds sessions");
            await Poll.UntilAsync(() => DrainingAsync(i, ct), d => d > 0 || reloading.IsCompleted, $"{node} draining", Settle, ct);
            Assert.IsFalse(reloading.IsCompleted, "the reload waits for the sessions of the node it drains: " + (reloading.IsCompleted ? reloading.Result.Output : ""));
            testContext.WriteLine($"{node} draining after {load.Elapsed.TotalMilliseconds:F0} ms: {load.Snapshot()}");

            // The reload waits for them: a second more, the node still answers every one (a stop or a data plane rebuilt
            // meanwhile would reset them, and the verdict below would count it).
            await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, ct);
            Assert.AreEqual(0, load.Snapshot().Reset, $"{node}'s sessions outlive the start of its drain");
            var closes = await load.CloseAsync(s => onNode.Contains(s.Index), ct);
            Assert.IsTrue(closes.All(c => c.Clean), string.Join("\n", closes.Where(c => !c.Clean)));
        }

        var reload = await reloading;
        testContext.WriteLine($"farmctl module reload:\n{reload.Output}{reload.Error}");
        Assert.AreEqual(0, reload.Code, reload.Output + reload.Error);
        for (int i = 0; i < 3; i++)
        {
            StringAssert.Contains(reload.Output, $"node{i}: folder read; web: reloaded: drained, stopped, swapped (seed changed: data plane rebuilt), started (UP/Ready)");
        }

        var final = await load.StopAsync(ct);
        testContext.WriteLine($"sessions through the roll: {final}");
        Assert.AreEqual(Sessions, final.Total);
        Assert.AreEqual(0, final.Reset, final.ToString());
        Assert.AreEqual(0, final.Failed, final.ToString());
        Assert.AreEqual(0, final.Stalls, $"stalls longer than {final.StallThreshold.TotalMilliseconds} ms: {final}");
        Assert.AreEqual(0, final.NodeChanges, final.ToString());
        Assert.AreEqual(0, final.AnsweredByTwo, final.ToString());

        // The new table: every kernel hashes with seed 7, the buckets split evenly, new sessions are all served by one node.
        for (int i = 0; i < 3; i++)
        {
            var listed = await farm.Nodes[i].Namespace.NftAsync(["-j", "list", "table", "inet", KernelBucketSampler.FilterTableName(RebalanceScenario.ModuleName)], cancellationToken: ct);
            StringAssert.Matches(listed.StandardOutput, new System.Text.RegularExpressions.Regex("\"seed\":\\s*7\\b"), $"node{i} hashes with the new seed");
        }

        await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 1, [2] = 1 }, Settle, ct);
        await using var after = await SessionLoad.StartAsync(farm.Client.Namespace, farm.Sources(), [RebalanceScenario.Vip], RebalanceScenario.TcpPort, cancellationToken: ct);
        await after.WaitUntilAsync(s => s.Open == Sessions && s.MinRoundTrips >= 3, Settle, ct);
        var fresh = await after.StopAsync(ct);
        Assert.AreEqual((0, 0, 0), (fresh.Reset, fresh.Failed, fresh.AnsweredByTwo), fresh.ToString());
        Assert.AreEqual(3, Enumerable.Range(0, after.Count).Select(after.NodeOf).Distinct().Count(), "the new sessions spread over the three nodes");
    }

    /// <summary>Buckets node <paramref name="index"/> drains; 0 while its module is between two definitions (no table to report).</summary>
    private async Task<int> DrainingAsync(int index, CancellationToken ct)
    {
        using var admin = farm!.Daemon(index).CreateAdminClient();
        var report = await admin.GetStatusAsync(ct);
        return report.Nodes.Single(n => n.IsSelf).Buckets.FirstOrDefault(b => b.Module == RebalanceScenario.ModuleName)?.Draining ?? 0;
    }

    private (int Code, string Output, string Error) Farmctl(params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run([.. args, "--socket", farm!.Daemon(0).AdminSocket], output, error);
        return (code, output.ToString(), error.ToString());
    }
}
