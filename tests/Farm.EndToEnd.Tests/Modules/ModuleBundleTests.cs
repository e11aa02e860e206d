using Farm.Testing.Nftables;
using Farm.Cli;
using Farm.Core.Bundles;
using Farm.Testing.Bundles;

namespace Farm.EndToEnd.Tests.Modules;

/// <summary>
/// Bundles on real farmd in network namespaces: two nodes run <c>web</c> (the demo-web example, installed from a bundle
/// the test packs) and <c>other</c> (a folder copied by hand). farmctl module install --all reloads web on both nodes
/// live (one after the other), web serves every client again, other never restarts; rollback and remove too.
/// </summary>
[TestClass]
public sealed class ModuleBundleTests(TestContext testContext)
{
    private const string Web = "web";
    private const string Other = "other";
    private const int WebPort = 8090;
    private const int OtherPort = 8091;
    private static readonly IPAddress WebVip = IPAddress.Parse("198.18.0.120");
    private static readonly IPAddress OtherVip = IPAddress.Parse("198.18.0.121");
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TopologyOptions Topology = new() { Nodes = 2, Clients = 1, AddressesPerClient = 20 };

    /// <summary>The pids of other's application on both nodes as <see cref="OnFarmAsync"/> started the farm.</summary>
    private string[] otherPidsAtStart = [];

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public Task InstallAll_ThenRollbackAndRemove_ReloadedModuleServesAgainOtherUndisturbed() =>
        OnFarmAsync("farm-bundles", web: true, async (farm, work, ct) =>
        {
            var watch = Stopwatch.StartNew();

            // v2: another start timeout (a setting that reloads live) and a new greeting in the module's own file.
            await InstallAllAsync(farm, work, "2.0.0", "25s", "installed; reloaded: drained, stopped, swapped, started (UP/Ready)", ct);
            testContext.WriteLine($"2.0.0 installed and served after {watch.ElapsedMilliseconds} ms");
            var list = Farmctl(farm, "module", "list", "--all", "--json");
            using (var json = System.Text.Json.JsonDocument.Parse(list.Output))
            {
                foreach (var result in json.RootElement.GetProperty("results").EnumerateArray())
                {
                    var web = result.GetProperty("modules").EnumerateArray().Single(m => m.GetProperty("module").GetString() == Web);
                    Assert.AreEqual("2.0.0", web.GetProperty("running_version").GetString(), list.Output);
                    Assert.AreEqual("1.0.0", web.GetProperty("previous_version").GetString(), list.Output);
                }
            }

            AssertOtherNeverRestarted(farm);

            // Rollback: 1.0.0 runs again on both and serves.
            var rollback = Farmctl(farm, "module", "rollback", Web, "--all");
            Assert.AreEqual(0, rollback.Code, rollback.Output + rollback.Error);
            StringAssert.Contains(rollback.Output, "node1: rolled back to 1.0.0; reloaded");
            await ServedAsync(farm, ct);

            // Remove: web is gone from both nodes (its VIP no longer answers), other still serves with the same process.
            var remove = Farmctl(farm, "module", "remove", Web, "--all");
            Assert.AreEqual(0, remove.Code, remove.Output + remove.Error);
            StringAssert.Contains(remove.Output, "node0: removed; drained, stopped and unloaded");
            var answers = await HttpProbe.AskAsync(farm.Client.Namespace, [.. farm.Client.Addresses4.Take(10)], OtherVip, OtherPort, TimeSpan.FromSeconds(3));
            CollectionAssert.AllItemsAreNotNull(answers, "other serves every client");
            Assert.IsFalse(Directory.Exists(Path.Combine(farm.Root, "node1", "modules", Web)));
            testContext.WriteLine($"install, rollback, remove on 2 nodes in {watch.ElapsedMilliseconds} ms");
        });

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public Task InstallAll_NewModule_ServedWithoutRestartOtherModuleClientsAlwaysAnswered() =>
        // farmd starts with other only.
        OnFarmAsync("farm-newmod", web: false, async (farm, work, ct) =>
        {
            int[] farmdPids = [farm.Daemon(0).Id, farm.Daemon(1).Id];

            // other's clients ask all along the install: every one of them must be answered.
            using var stopAsking = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var asked = AskAllAlongAsync(farm, OtherVip, OtherPort, stopAsking.Token);
            await InstallAllAsync(farm, work, "1.0.0", "20s", "installed; loaded: started (UP/Ready)", ct);
            await stopAsking.CancelAsync();
            var (rounds, unanswered) = await asked;
            testContext.WriteLine($"other asked in {rounds} rounds of 10 clients during the install: {unanswered.Count} unanswered");
            Assert.IsTrue(rounds >= 3, "other's clients asked during the install");
            Assert.AreEqual(0, unanswered.Count, "other's clients were always answered: " + string.Join("; ", unanswered));
            CollectionAssert.AreEqual(farmdPids, new[] { farm.Daemon(0).Id, farm.Daemon(1).Id }, "farmd never restarted");
        });

    [TestMethod]
    [Timeout(150_000, CooperativeCancellation = true)]
    public Task InstallAll_SeedChanged_ReloadedOnEveryNodeTwoDefinitionsNeverAcceptAtOnce() =>
        OnFarmAsync("farm-reseed", web: true, async (farm, work, ct) =>
        {
            // While the install runs, each node's kernel table is read (nft, one listing: bucket sets, lease and the seed
            // its hash rule uses) in the order node0, node1, node0, node1: two nodes hashing with different seeds must
            // never both accept new flows (any client could then be answered twice).
            string file = Path.Combine(work, "web-2.0.0.farm.zip");
            await File.WriteAllBytesAsync(file, Pack(work, "2.0.0", Topology.InterfaceName, "20s", farm.Root, seed: 7), ct);
            var installing = Task.Run(() => Farmctl(farm, "module", "install", file, "--all"), ct);
            var violations = new List<string>();
            var seedsSeen = new[] { new List<uint>(), new List<uint>() };
            int rounds = 0;
            while (!installing.IsCompleted)
            {
                var reads = new List<(bool Accepts, uint? Seed)>();
                foreach (int node in new[] { 0, 1, 0, 1 })
                {
                    var read = await ReadKernelAsync(farm.Nodes[node].Namespace, ct);
                    reads.Add(read);
                    if (read.Seed is { } seed && (seedsSeen[node].Count == 0 || seedsSeen[node][^1] != seed))
                    {
                        seedsSeen[node].Add(seed);
                    }
                }

                // A node accepting at reads k and k+2 accepted throughout, so also while the other was read (k+1).
                for (int k = 0; k < 2; k++)
                {
                    if (reads[k].Accepts && reads[k + 1].Accepts && reads[k + 2].Accepts && reads[k].Seed != reads[k + 1].Seed)
                    {
                        violations.Add($"round {rounds}: both nodes accept new flows, seeds {reads[k].Seed} and {reads[k + 1].Seed}");
                    }
                }

                rounds++;
            }

            var install = await installing;
            testContext.WriteLine($"install --all:\n{install.Output}{install.Error}");
            testContext.WriteLine($"{rounds} rounds; seeds seen: node0 {string.Join(" -> ", seedsSeen[0])}, node1 {string.Join(" -> ", seedsSeen[1])}");
            AssertOnBothNodes(install, "installed; reloaded: drained, stopped, swapped (seed changed: data plane rebuilt), started (UP/Ready)");

            await ServedAsync(farm, ct);
            // Each round reads both kernels twice (an nft process per read); on a loaded machine a round takes ~0.5 s. The
            // seeds seen below (old, then new, on each node) prove the reads spanned the switch.
            Assert.IsTrue(rounds >= 3, $"the kernels were read during the install ({rounds} rounds)");
            Assert.AreEqual(0, violations.Count, string.Join("\n", violations.Take(20)));
            for (int i = 0; i < 2; i++)
            {
                var final = await ReadKernelAsync(farm.Nodes[i].Namespace, ct);
                Assert.AreEqual((true, (uint?)7), final, $"node{i} serves with the new seed");
                CollectionAssert.AreEqual(new uint[] { 1, 7 }, seedsSeen[i].ToArray(), $"node{i} hashed with the old seed, then the new one");
            }
        });

    /// <summary>Whether web's kernel table in <paramref name="ns"/> accepts new flows (leased), and the seed its hash rule uses; (false, null) without a table.</summary>
    private static async Task<(bool Accepts, uint? Seed)> ReadKernelAsync(NetworkNamespace ns, CancellationToken ct)
    {
        try
        {
            var listed = await ns.NftAsync(["-j", "list", "table", "inet", KernelBucketSampler.FilterTableName(Web)], cancellationToken: ct);
            string live = "table inet " + KernelBucketSampler.LiveTableName(Web);
            bool alive = (await ns.NftAsync(["list", "tables", "inet"], cancellationToken: ct)).StandardOutput.Split('\n').Any(l => l.Trim() == live);
            var table = FilterTableState.Parse(listed.StandardOutput, alive);
            var seed = System.Text.RegularExpressions.Regex.Match(listed.StandardOutput, "\"seed\":\\s*(\\d+)");
            return (table.HasLease && table.AcceptingNewFlows.Count > 0, seed.Success ? uint.Parse(seed.Groups[1].Value, CultureInfo.InvariantCulture) : null);
        }
        catch (CommandFailedException)
        {
            return (false, null); // no table: being rebuilt
        }
    }

    /// <summary>Asks 10 clients through <paramref name="vip"/> every 200 ms until cancelled; the rounds and every client left unanswered.</summary>
    private static async Task<(int Rounds, List<string> Unanswered)> AskAllAlongAsync(FarmFixture farm, IPAddress vip, int port, CancellationToken ct)
    {
        var unanswered = new List<string>();
        int rounds = 0;
        var sources = farm.Client.Addresses4.Take(10).ToList();
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            do
            {
                var answers = await HttpProbe.AskAsync(farm.Client.Namespace, sources, vip, port, TimeSpan.FromSeconds(2));
                rounds++;
                unanswered.AddRange(answers.Select((a, i) => a is null ? $"{sources[i]} (round {rounds})" : null).OfType<string>());
            }
            while (await pace.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the install is over
        }

        return (rounds, unanswered);
    }

    /// <summary>
    /// Runs <paramref name="test"/> (with the test's cancellation token) on a new two-node farm (see
    /// <see cref="StartFarmAsync"/>) in a work folder of its own, then asserts that other's application never restarted;
    /// the farm is disposed and the folder deleted afterwards, also when the start or the test fails.
    /// </summary>
    private async Task OnFarmAsync(string name, bool web, Func<FarmFixture, string, CancellationToken, Task> test)
    {
        var ct = testContext.CancellationToken;
        string work = Directory.CreateTempSubdirectory("farm-bundle-e2e-").FullName;
        FarmFixture? farm = null;
        try
        {
            farm = await StartFarmAsync(name, work, web, ct);
            otherPidsAtStart = OtherPids(farm);
            await test(farm, work, ct);
            AssertOtherNeverRestarted(farm);
        }
        finally
        {
            if (farm is not null)
            {
                await farm.DisposeAsync();
            }

            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Two farmd in namespaces running other (copied by hand) and, with <paramref name="web"/>, web 1.0.0 (from a bundle), both served.</summary>
    private static async Task<FarmFixture> StartFarmAsync(string name, string work, bool web, CancellationToken ct)
    {
        await Requirements.NamespacesAsync(needNft: true);
        await Requirements.ToolsAsync("python3");
        byte[]? v1 = null;
        return await FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = name,
                Key = "farm-bundles-e2e-key-0123456789abcdef",
                Topology = Topology,
                WriteNodeModules = (root, i) => WriteNode(root, i, web ? v1 ??= Pack(work, "1.0.0", Topology.InterfaceName, "20s", root) : null, Topology.InterfaceName),
                Settle = (f, c) => ServedAsync(f, c, web),
                AfterDaemonsKilled = f => KillApps(f),
            },
            ct);
    }

    /// <summary>
    /// Packs web <paramref name="version"/> (start timeout <paramref name="start"/>), installs it with
    /// <c>farmctl module install --all</c>, asserts both nodes report <paramref name="outcome"/> and waits until both serve.
    /// </summary>
    private async Task InstallAllAsync(FarmFixture farm, string work, string version, string start, string outcome, CancellationToken ct)
    {
        string file = Path.Combine(work, $"web-{version}.farm.zip");
        await File.WriteAllBytesAsync(file, Pack(work, version, Topology.InterfaceName, start, farm.Root), ct);
        var install = Farmctl(farm, "module", "install", file, "--all");
        testContext.WriteLine($"install --all of {version}:\n{install.Output}{install.Error}");
        AssertOnBothNodes(install, outcome);
        await ServedAsync(farm, ct);
    }

    /// <summary>Asserts that a farmctl call on every node succeeded and reported <paramref name="outcome"/> for node0 and node1.</summary>
    private static void AssertOnBothNodes((int Code, string Output, string Error) run, string outcome)
    {
        Assert.AreEqual(0, run.Code, run.Output + run.Error);
        foreach (string node in new[] { "node0", "node1" })
        {
            StringAssert.Contains(run.Output, $"{node}: {outcome}");
        }
    }

    private static (int Code, string Output, string Error) Farmctl(FarmFixture farm, params string[] args)
    {
        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run([.. args, "--socket", farm.Daemon(0).AdminSocket], output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Both modules UP/Ready on both nodes, and both VIPs answer every client, each from one of the nodes.</summary>
    private static async Task ServedAsync(FarmFixture farm, CancellationToken ct, bool web = true) => await Poll.UntilAsync(
        async () =>
        {
            foreach (var vip in web ? [(WebVip, WebPort), (OtherVip, OtherPort)] : new[] { (OtherVip, OtherPort) })
            {
                var answers = await HttpProbe.AskAsync(farm.Client.Namespace, [.. farm.Client.Addresses4.Take(10)], vip.Item1, vip.Item2, TimeSpan.FromSeconds(2));
                if (answers.Any(a => a is not ("node0" or "node1")))
                {
                    return false;
                }
            }

            return true;
        },
        ok => ok,
        "web and other served by the two nodes",
        Long,
        ct);

    private void AssertOtherNeverRestarted(FarmFixture farm)
    {
        string[] now = OtherPids(farm);
        if (!now.SequenceEqual(otherPidsAtStart))
        {
            // Why it restarted is in the daemons' logs.
            for (int i = 0; i < 2; i++)
            {
                testContext.WriteLine($"--- farmd {FarmFixture.NodeName(i)} ---\n{farm.Daemon(i).Output}");
            }
        }

        CollectionAssert.AreEqual(otherPidsAtStart, now, "the other module's application never restarted");
    }

    private static string[] OtherPids(FarmFixture farm) =>
        [.. Enumerable.Range(0, 2).Select(i => File.ReadAllText(Path.Combine(RunBase(farm.Root, i), Other, "server.pid")).Trim())];

    private static string RunBase(string root, int index) => Path.Combine(root, FarmFixture.NodeName(index), "run");

    private static void KillApps(FarmFixture farm)
    {
        for (int i = 0; i < 2; i++)
        {
            foreach (string module in new[] { Web, Other })
            {
                string pidFile = Path.Combine(RunBase(farm.Root, i), module, "server.pid");
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out int pid))
                {
                    try
                    {
                        using var process = Process.GetProcessById(pid);
                        process.Kill();
                    }
                    catch (ArgumentException)
                    {
                        // not running
                    }
                }
            }
        }
    }

    /// <summary>The web module: the shipped demo-web example with a farm.yaml of the test, packed as <paramref name="version"/>.</summary>
    private static byte[] Pack(string work, string version, string interfaceName, string start, string root, int? seed = null)
    {
        string folder = Path.Combine(work, "web-" + version);
        CopyExample(folder);
        File.WriteAllText(Path.Combine(folder, "farm.yaml"), Yaml(Web, WebVip, WebPort, interfaceName, start, seed));
        // The example's site settings (sourced by bin/env.sh); one run folder per node, as on separate machines.
        File.WriteAllText(Path.Combine(folder, "env.local"), $"PORT={WebPort}\nRUN_BASE=\"{root}/$FARM_NODE/run\"\n");
        return TestBundles.Pack(folder, version);
    }

    /// <summary>A node's modules folder: web 1.0.0 laid out as farmctl module install leaves it (unless null), other copied by hand.</summary>
    private static void WriteNode(string root, int index, byte[]? v1, string interfaceName)
    {
        string modules = Path.Combine(root, FarmFixture.NodeName(index), "modules");
        if (v1 is null)
        {
            Directory.CreateDirectory(modules);
            WriteOther(root, index, modules, interfaceName);
            return;
        }

        var (bundle, problems) = ModuleBundle.Read(new MemoryStream(v1), "v1");
        Assert.IsNotNull(bundle, string.Join("\n", problems));
        string installed = Path.Combine(modules, ".versions", Web, "1.0.0");
        foreach (var f in bundle.Files)
        {
            string path = Path.Combine(installed, f.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, f.Content.ToArray());
            File.SetUnixFileMode(path, (UnixFileMode)f.Mode);
        }

        File.WriteAllBytes(Path.Combine(installed, BundlePaths.Manifest), bundle.ManifestBytes);
        File.CreateSymbolicLink(Path.Combine(modules, Web), Path.Combine(".versions", Web, "1.0.0"));
        WriteOther(root, index, modules, interfaceName);
    }

    private static void WriteOther(string root, int index, string modules, string interfaceName)
    {
        string other = Path.Combine(modules, Other);
        CopyExample(other);
        File.WriteAllText(Path.Combine(other, "farm.yaml"), Yaml(Other, OtherVip, OtherPort, interfaceName, "20s"));
        File.WriteAllText(Path.Combine(other, "env.local"), $"PORT={OtherPort}\nRUN_BASE='{RunBase(root, index)}'\n");
    }

    private static string Yaml(string name, IPAddress vip, int port, string interfaceName, string start, int? seed = null) => $"""
        module:
          name: {name}
          vips: [{vip}]
          interface: {interfaceName}
          buckets: 256
          seed: {seed ?? 1}
          rules:
            - {"{"} protocol: tcp, ports: {port}, affinity: client_ip {"}"}
          timeouts: {"{"} start: {start}, stop: 3s, stop_force: 1s, drain: 1s {"}"}
          checkers:
            - {"{"} name: port, type: tcp, address: 127.0.0.1, port: {port}, interval: 1s, timeout: 900ms, action: restart {"}"}

        """.ReplaceLineEndings("\n");

    private static void CopyExample(string to)
    {
        string example = Path.Combine(RepositoryRoot(), "docs", "examples", "modules", "demo-web");
        foreach (string file in Directory.GetFiles(example, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(example, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Farm.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("Farm.sln not found above " + AppContext.BaseDirectory);
    }
}
