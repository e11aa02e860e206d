using System.Threading.Channels;
using Farm.Protocol.V1;

namespace Farm.Cli.Tests.EndToEnd;

/// <summary>farmctl (in-process, through CliApp) against three real farmd processes on 127.0.0.1-3.</summary>
[TestClass]
public sealed class FarmctlFarmdTests
{
    private const string Key = "farmctl-e2e-cluster-key-0123456789";
    private static readonly string[] Names = ["n1", "n2", "n3"];

    private static readonly ModuleConfig Web = new()
    {
        Name = "web",
        Vips = [IPAddress.Parse("198.18.100.1")],
        Interface = "eth0",
        Buckets = 1024,
        Seed = 0x2468ace0,
        Rules =
        [
            new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = 80, LastPort = 80, Affinity = Affinity.ClientIp },
            new PortRuleConfig { Protocol = TransportProtocol.Udp, FirstPort = 5000, LastPort = 5100, Affinity = Affinity.ClientIpPort },
        ],
    };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Farmctl_ThreeFarmdProcesses_StatusWhoOwnsRemoteAndWatchAgreeWithTheNodes()
    {
        await using var farm = new LoopbackFarmd("farmctl-e2e-");
        string clusterFile = farm.WriteCluster(farm.Cluster("farmctl-e2e", Key));
        string modules = farm.WriteModule(Web);
        try
        {
            await farm.StartAllAsync(clusterFile, modules, CancellationToken.None);
            var processes = farm.Processes;
            long epoch = await WaitForOneViewOfThreeAsync(processes);

            await StatusJson_EveryNode_AgreesWithGetStatusAsync(processes, epoch);
            await WhoOwns_SampledClients_AgreeWithHasherAndEveryNodesTableAsync(processes);
            await Remote_SealedCalls_AnswerAndRefuseAWrongKeyAsync(farm, clusterFile);
            await Watch_KilledNode_FollowsTheViewChangeAndStopsOnCancelAsync(processes);
        }
        catch
        {
            farm.WriteOutputs(TestContext.WriteLine);
            throw;
        }
    }

    private static async Task<long> WaitForOneViewOfThreeAsync(IReadOnlyList<FarmdProcess> processes)
    {
        var reports = new List<NodeStatusReport>();
        foreach (var p in processes)
        {
            using var admin = p.CreateAdminClient();
            reports.Add(await Poll.UntilAsync(
                () => admin.GetStatusAsync(),
                // Every node with a share: the view that admits a node gives it none before its first lease.
                s => s.Nodes.All(n => n.InView && n.Buckets.Single().Buckets > 0) && s.Nodes.Sum(n => n.Buckets.Single().Buckets) == Web.Buckets,
                $"{p.Node} installs a view of n1, n2, n3 that shares every bucket among them", Poll.DefaultTimeout, CancellationToken.None));
        }

        // A late joiner may have caused one more view: wait until all three report the same epoch.
        for (int attempt = 0; reports.Select(r => r.InstalledEpoch).Distinct().Count() > 1 && attempt < 100; attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
            reports.Clear();
            foreach (var p in processes)
            {
                using var admin = p.CreateAdminClient();
                reports.Add(await admin.GetStatusAsync());
            }
        }

        Assert.AreEqual(1, reports.Select(r => (r.InstalledEpoch, r.Coordinator)).Distinct().Count(), "one view on all three");
        return reports[0].InstalledEpoch;
    }

    private static async Task StatusJson_EveryNode_AgreesWithGetStatusAsync(IReadOnlyList<FarmdProcess> processes, long epoch)
    {
        foreach (var p in processes)
        {
            var run = await TestCli.RunAsync(["status", "--json", "--socket", p.AdminSocket]).WithTimeout();
            Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Error);
            using var admin = p.CreateAdminClient();
            var expected = await admin.GetStatusAsync();

            using var doc = JsonDocument.Parse(run.Output);
            var root = doc.RootElement;
            Assert.AreEqual((expected.Cluster, p.Node, expected.Incarnation, expected.ConfigHash, epoch, expected.Coordinator),
                (root.GetProperty("cluster").GetString(), root.GetProperty("node").GetString(), root.GetProperty("incarnation").GetInt64(),
                 root.GetProperty("config_hash").GetString(), root.GetProperty("epoch").GetInt64(), root.GetProperty("coordinator").GetString()));
            var nodes = root.GetProperty("nodes").EnumerateArray().ToList();
            CollectionAssert.AreEqual(expected.Nodes.Select(n => n.Name).ToArray(), nodes.Select(n => n.GetProperty("name").GetString()).ToArray());
            foreach (var (json, status) in nodes.Zip(expected.Nodes))
            {
                Assert.AreEqual(("up", true, status.Incarnation, status.IsSelf, true),
                    (json.GetProperty("state").GetString(), json.GetProperty("in_view").GetBoolean(), json.GetProperty("incarnation").GetInt64(),
                     json.GetProperty("self").GetBoolean(), json.GetProperty("config_matches").GetBoolean()), status.Name);
                var module = json.GetProperty("modules").EnumerateArray().Single();
                Assert.AreEqual(("web", "ready", status.Buckets.Single().Buckets, Web.Buckets),
                    (module.GetProperty("module").GetString(), module.GetProperty("readiness").GetString(), module.GetProperty("buckets").GetInt32(),
                     module.GetProperty("bucket_count").GetInt32()), status.Name);
                Assert.IsTrue(json.GetProperty("lans")[0].GetProperty("reachable").GetBoolean(), status.Name);
            }

            var table = await TestCli.RunAsync(["status", "--socket", p.AdminSocket]).WithTimeout();
            Assert.AreEqual(CliApp.ExitOk, table.ExitCode, table.Error);
            foreach (string name in Names)
            {
                StringAssert.Matches(table.Output, new System.Text.RegularExpressions.Regex($@"(?m)^{name}( \*)?\s+up\s+\d+\s+yes\s+100\s+ready \d+\.\d\d% \d+/1024"));
            }
        }
    }

    private static async Task WhoOwns_SampledClients_AgreeWithHasherAndEveryNodesTableAsync(IReadOnlyList<FarmdProcess> processes)
    {
        var random = new Random(6);
        var owners = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 200; i++)
        {
            var address = RandomAddress(random);
            ushort clientPort = (ushort)random.Next(1024, 65536);
            string client = new ClientKey(address, clientPort).ToString();
            var answers = new List<(string Node, JsonElement Owners)>();
            foreach (var p in processes)
            {
                var run = await TestCli.RunAsync(["who-owns", client, "--json", "--socket", p.AdminSocket]).WithTimeout();
                Assert.AreEqual(CliApp.ExitOk, run.ExitCode, run.Error);
                using var doc = JsonDocument.Parse(run.Output);
                Assert.AreEqual(p.Node, doc.RootElement.GetProperty("node").GetString());
                answers.Add((p.Node, doc.RootElement.GetProperty("owners").Clone()));
            }

            foreach (var affinity in new[] { Affinity.ClientIp, Affinity.ClientIpPort })
            {
                string name = affinity == Affinity.ClientIpPort ? "client_ip_port" : "client_ip";
                int expectedBucket = new BucketHasher(Web.Buckets, Web.Seed).BucketOf(new ClientKey(address, affinity == Affinity.ClientIpPort ? clientPort : null), affinity);
                var entries = answers.Select(a => (a.Node, Entry: a.Owners.EnumerateArray().Single(o => o.GetProperty("affinity").GetString() == name))).ToList();
                Assert.IsTrue(entries.All(e => e.Entry.GetProperty("bucket").GetInt32() == expectedBucket), $"{client} {name}: the kernel's bucket on every node");
                string owner = entries[0].Entry.GetProperty("owner").GetString()!;
                Assert.IsTrue(entries.All(e => e.Entry.GetProperty("owner").GetString() == owner), $"{client} {name}: every node names {owner}");

                // Each node's own bucket states come from its ownership snapshot, not from who-owns' table lookup:
                // only the named owner may take the client's new flows.
                foreach (var (node, entry) in entries)
                {
                    string? local = entry.GetProperty("local_state").GetString();
                    if (node == owner)
                    {
                        Assert.IsTrue(local is "owned" or "incoming", $"{client} {name}: the owner {node} holds bucket {expectedBucket} ({local})");
                        Assert.AreEqual(local, entry.GetProperty("owner_state").GetString());
                    }
                    else
                    {
                        Assert.IsTrue(local is "none" or "draining", $"{client} {name}: {node} does not take bucket {expectedBucket} ({local})");
                        Assert.AreEqual(JsonValueKind.Null, entry.GetProperty("owner_state").ValueKind);
                    }
                }

                owners.Add(owner);
            }
        }

        CollectionAssert.AreEquivalent(Names, owners.ToArray(), "200 clients reach every node");

        // The human form of one answer, and a client_ip_port rule asked without the client's port.
        var text = await TestCli.RunAsync(["who-owns", "10.1.2.3", "--socket", processes[0].AdminSocket]).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, text.ExitCode, text.Error);
        StringAssert.Matches(text.Output, new System.Text.RegularExpressions.Regex(@"web\s+tcp 80\s+client_ip\s+\d+/1024\s+n[123]"));
        StringAssert.Contains(text.Output, "web udp 5000-5100: affinity client_ip_port hashes the client's source port too");
        var onlyPortRule = await TestCli.RunAsync(["who-owns", "10.1.2.3", "--protocol", "udp", "--socket", processes[0].AdminSocket]).WithTimeout();
        Assert.AreEqual(CliApp.ExitFailed, onlyPortRule.ExitCode, "nothing could be answered without the client's port");
        var unknownModule = await TestCli.RunAsync(["who-owns", "10.1.2.3", "-m", "db", "--socket", processes[0].AdminSocket]).WithTimeout();
        Assert.AreEqual((CliApp.ExitFailed, "farmctl: unknown module 'db' (modules: web)\n"), (unknownModule.ExitCode, unknownModule.Error));
    }

    private static async Task Remote_SealedCalls_AnswerAndRefuseAWrongKeyAsync(LoopbackFarmd farm, string clusterFile)
    {
        var (processes, dir, port) = (farm.Processes, farm.Directory, farm.Port);
        var status = await TestCli.RunAsync(["status", "--json", "--host", "127.0.0.2", "--cluster", clusterFile]).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, status.ExitCode, status.Error);
        using (var doc = JsonDocument.Parse(status.Output))
        {
            Assert.AreEqual("n2", doc.RootElement.GetProperty("node").GetString(), "the cluster file gives the port; the reply is sealed by n2");
        }

        string keyFile = Path.Combine(dir, "key");
        await File.WriteAllTextAsync(keyFile, Key + "\n");
        var remote = await TestCli.RunAsync(["who-owns", "192.0.2.44:40000", "--json", "--host", $"127.0.0.3:{port}", "--key-file", keyFile]).WithTimeout();
        var local = await TestCli.RunAsync(["who-owns", "192.0.2.44:40000", "--json", "--socket", processes[2].AdminSocket]).WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, remote.ExitCode, remote.Error);
        Assert.AreEqual(local.Output, remote.Output, "sealed over TCP or plain over the socket, n3 answers alike");

        string wrongCluster = farm.WriteCluster(farm.Cluster("farmctl-e2e", "another-cluster-key-9876543210"), "wrong.yaml");
        var refused = await TestCli.RunAsync(["status", "--host", "127.0.0.1", "--cluster", wrongCluster]).WithTimeout();
        Assert.AreEqual(CliApp.ExitFailed, refused.ExitCode);
        StringAssert.StartsWith(refused.Error, $"farmctl: farmd at 127.0.0.1:{port} refused the call (refused: bad_mac): the key in --cluster/--key-file is not this cluster's");

        // n1 counted the refusal, and status shows it.
        var counters = await TestCli.RunAsync(["status", "--socket", processes[0].AdminSocket]).WithTimeout();
        StringAssert.Matches(counters.Output, new System.Text.RegularExpressions.Regex(@"127\.0\.0\.1\s+bad_mac\s+1\s+farmctl@"));
    }

    private static async Task Watch_KilledNode_FollowsTheViewChangeAndStopsOnCancelAsync(IReadOnlyList<FarmdProcess> processes)
    {
        // For people (redirected here): each status under a time line.
        using (var tableLines = new LineChannelWriter())
        using (var stopTable = new CancellationTokenSource())
        {
            var tableWatch = TestCli.RunAsync(["status", "-w", "--socket", processes[1].AdminSocket], tableLines, stopTable.Token);
            StringAssert.Matches(await tableLines.ReadLineAsync().WithTimeout(), new System.Text.RegularExpressions.Regex(@"^--- \d\d:\d\d:\d\d ---$"));
            StringAssert.StartsWith(await tableLines.ReadLineAsync().WithTimeout(), "Cluster farmctl-e2e as seen by n2");
            await stopTable.CancelAsync();
            Assert.AreEqual(CliApp.ExitOk, (await tableWatch.WithTimeout()).ExitCode);
        }

        using var lines = new LineChannelWriter();
        using var stop = new CancellationTokenSource();
        var watch = TestCli.RunAsync(["status", "--watch", "--json", "--socket", processes[0].AdminSocket], lines, stop.Token);

        using (var first = JsonDocument.Parse(await lines.ReadLineAsync().WithTimeout()))
        {
            Assert.IsTrue(first.RootElement.GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("in_view").GetBoolean()), "the current status comes first");
        }

        processes[2].Kill();
        while (true)
        {
            using var update = JsonDocument.Parse(await lines.ReadLineAsync().WithTimeout());
            var n3 = update.RootElement.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "n3");
            if (!n3.GetProperty("in_view").GetBoolean())
            {
                Assert.AreEqual("down", n3.GetProperty("state").GetString());
                break;
            }
        }

        await stop.CancelAsync();
        var run = await watch.WithTimeout();
        Assert.AreEqual(CliApp.ExitOk, run.ExitCode, "Ctrl-C is the normal end of --watch: " + run.Error);
        Assert.AreEqual("", run.Error);
    }

    private static IPAddress RandomAddress(Random random)
    {
        byte[] bytes = new byte[random.Next(2) == 0 ? 4 : 16];
        random.NextBytes(bytes);
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }



    /// <summary>Hands every line farmctl writes to the test as it is completed (for --watch), whichever Write overload wrote it.</summary>
    private sealed class LineChannelWriter : TextWriter
    {
        private readonly Channel<string> lines = Channel.CreateUnbounded<string>();
        private readonly System.Text.StringBuilder all = new();
        private readonly System.Text.StringBuilder pending = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => Feed(value.ToString());

        public override void Write(string? value) => Feed(value);

        public override void Write(char[] buffer, int index, int count) => Feed(new string(buffer, index, count));

        public override void WriteLine(string? value) => Feed(value + "\n");

        public Task<string> ReadLineAsync() => lines.Reader.ReadAsync().AsTask();

        public override string ToString()
        {
            lock (all)
            {
                return all.ToString();
            }
        }

        private void Feed(string? text)
        {
            lock (all)
            {
                all.Append(text);
                foreach (char c in text ?? "")
                {
                    if (c == '\n')
                    {
                        lines.Writer.TryWrite(pending.ToString().TrimEnd('\r'));
                        pending.Clear();
                    }
                    else
                    {
                        pending.Append(c);
                    }
                }
            }
        }
    }
}
