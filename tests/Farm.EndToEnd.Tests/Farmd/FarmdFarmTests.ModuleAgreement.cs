using System.Text.Json;

namespace Farm.EndToEnd.Tests.Farmd;

/// <summary>
/// Module agreement with real farmd, on the shared farm: a node restarted with another definition of module "web"
/// (another seed, another bucket count) joins the view but holds none of web's buckets while the others serve every
/// client, status and logs name the setting, and once its file matches again and it restarts, it gets its share back.
/// </summary>
public sealed partial class FarmdFarmTests
{
    [TestMethod]
    [Timeout(150_000, CooperativeCancellation = true)]
    [DataRow("seed")]
    [DataRow("buckets")]
    public async Task Restart_OneNodeWithOtherModuleDefinition_ItServesNoneOfTheModuleUntilFixed(string setting)
    {
        const int odd = 2;
        string oddName = FarmFixture.NodeName(odd);

        // node2 restarts with its own modules folder: web with another seed (or bucket count), the other module as is.
        await StopAndForgetAsync(odd, Ct);
        string modules = Path.Combine(Farm.Root, $"modules-{setting}");
        CopyDirectory(Path.Combine(Farm.Root, "modules"), modules);
        FarmConfigFiles.WriteModule(setting == "seed" ? Farm.Module with { Seed = Farm.Module.Seed + 1 } : Farm.Module with { Buckets = 512 }, modules);
        Farm.StartDaemon(odd, modules);
        await Farm.Daemon(odd).WaitForReadyAsync(TimeSpan.FromSeconds(30), Ct);

        // It joins the view, and node0's status names the module, the node and the setting.
        var status = await Poll.UntilAsync(
            async () =>
            {
                using var admin = Farm.Daemon(0).CreateAdminClient();
                return await admin.GetStatusAsync(Ct);
            },
            s => s.Nodes.Any(n => n.Name == oddName && n.InView) && s.ModuleMismatches.Any(m => m.Node == oddName),
            $"{oddName} in node0's view with its module mismatch in node0's status",
            TimeSpan.FromSeconds(30),
            Ct,
            TimeSpan.FromMilliseconds(100));
        var seen = status.ModuleMismatches.Single();
        Assert.AreEqual((FarmdScenario.ModuleName, oddName), (seen.Module, seen.Node));
        CollectionAssert.AreEqual(new[] { setting }, seen.Settings.ToArray());

        // Never at once: sampled for two seconds, node2's kernel accepts no bucket of web while node0 and node1 split all.
        for (int sample = 0; sample < 10; sample++)
        {
            var table = await FilterTableState.ReadAsync(Farm.Nodes[odd].Namespace, FarmdScenario.ModuleName, Ct);
            Assert.IsNotNull(table, "node2 has no web table (its module should run, only without buckets)");
            Assert.AreEqual(0, table.Owned.Count + table.Incoming.Count + table.Claimed.Count, $"node2 accepts web clients: {table}");
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, Ct);
        }

        // Every bucket takes new flows on exactly one node, never node2 (read from all three kernels).
        var (owners, problem) = await Farm.TryReadAcceptorsAsync(FarmdScenario.ModuleName, Ct);
        Assert.IsNotNull(owners, problem);
        Assert.DoesNotContain(oddName, owners);
        await AssertTcpAnsweredByOwnersAsync(Client0, 60, owners);

        // farmctl status (text and JSON) and the logs say why.
        string json = Farmctl(["status", "--socket", Farm.Daemon(odd).AdminSocket, "--json"]);
        using (var doc = JsonDocument.Parse(json))
        {
            var mismatch = doc.RootElement.GetProperty("module_mismatches")[0];
            Assert.AreEqual(FarmdScenario.ModuleName, mismatch.GetProperty("module").GetString());
            Assert.AreEqual(oddName, mismatch.GetProperty("node").GetString());
            Assert.AreEqual(setting, mismatch.GetProperty("settings")[0].GetString());
        }

        StringAssert.Contains(Farmctl(["status", "--socket", Farm.Daemon(0).AdminSocket]), $"Module web differs on {oddName}: {setting}");
        StringAssert.Contains(Farm.Daemon(odd).Output, "Module web here differs from the definition the farm agreed on");
        StringAssert.Contains(Farm.Daemon(0).Output, $"Node {oddName} runs module web with another definition");

        // Fixed: the shared file again and a restart; node2 gets its share back.
        await StopAndForgetAsync(odd, Ct);
        var settled = await Farm.EnsureAllRunningAsync(Ct);
        Assert.IsGreaterThan(0, settled.Count(o => o == oddName), "node2 got no buckets after its file was fixed");
        using var admin0 = Farm.Daemon(0).CreateAdminClient();
        Assert.IsEmpty((await admin0.GetStatusAsync(Ct)).ModuleMismatches);
    }

    private static async Task StopAndForgetAsync(int index, CancellationToken ct)
    {
        await Farm.Daemon(index).TerminateAsync(ct);
        await Farm.Daemon(index).WaitForExitAsync(TimeSpan.FromSeconds(30), ct);
        await Farm.ForgetAsync(index);
    }

    private static string Farmctl(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = global::Farm.Cli.CliApp.Run(args, output, error);
        Assert.AreEqual(0, code, error.ToString());
        return output.ToString();
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal), overwrite: true);
        }
    }
}
