using Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Processes;

/// <summary>Real farmd processes on 127.0.0.1-4 talking gRPC to each other.</summary>
[TestClass]
public sealed class FarmdProcessTests(TestContext testContext) : TempDirectoryTest("farmd-proc-")
{
    [TestMethod]
    public async Task Farmd_ThreeProcesses_FormOneViewRefuseForgeriesExcludeMismatchAndDropAKilledNode()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port);
        string otherFile = TestClusterFiles.Write(Dir, "cluster-other.yaml", port, n4Priority: 5);
        string hash = ConfigParser.ParseCluster(await File.ReadAllTextAsync(clusterFile), clusterFile).Value!.ComputeHash();
        string otherHash = ConfigParser.ParseCluster(await File.ReadAllTextAsync(otherFile), otherFile).Value!.ComputeHash();
        using var notify = new NotifySocket(Dir);
        string logDir = Path.Combine(Dir, "logs");
        var processes = new List<FarmdProcess>();
        try
        {
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n1", Dir) with { LogDirectory = logDir, Environment = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path } }));
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n2", Dir)));
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n3", Dir)));
            var (n1, n2, n3) = (processes[0], processes[1], processes[2]);

            Assert.AreEqual("READY=1", await notify.NextLifecycleAsync(), "sd_notify once n1 is in a view");
            await WaitUntilReadyAsync(processes);
            Assert.AreEqual("-rw-------", ModeOf(n1.AdminSocket));

            // 1. One view of three, seen alike through every node's Unix socket.
            var views = new List<NodeStatusReport>();
            foreach (var p in processes)
            {
                using var admin = FarmdAdminClient.ForSocket(p.AdminSocket);
                views.Add(await Poll.UntilAsync(() => admin.GetStatusAsync(), s => InView(s).SequenceEqual(["n1", "n2", "n3"]), $"{p.Node} sees n1, n2, n3 in its view", TimeSpan.FromSeconds(15), CancellationToken.None));
            }

            Assert.AreEqual(1, views.Select(v => (v.InstalledEpoch, v.Coordinator)).Distinct().Count(), "all three installed the same view");
            Assert.IsTrue(views.All(v => v.ConfigHash == hash));

            // 2. A forged heartbeat (wrong key) and a replayed one are refused and counted.
            using var tcp = FarmdAdminClient.ForTcp($"127.0.0.1:{port}");
            var membership = new Farm.Protocol.V1.Membership.MembershipClient(tcp.Channel);
            var forged = SealedHeartbeat(new TestSealer("an-attacker-does-not-know-the-key", "n2", 42), "n1", 0);
            var forgedError = await Assert.ThrowsExactlyAsync<RpcException>(async () => await membership.HeartbeatAsync(forged));
            Assert.AreEqual(StatusCode.Unauthenticated, forgedError.StatusCode);

            // The test speaks as n4 (not running yet) with a foreign config hash, so it is never admitted. Its first
            // heartbeat names no run of n1: n1 answers with its run (sealed) and serves nothing.
            var n4Sealer = new TestSealer(TestClusterFiles.Key, "n4", 1);
            var hello = await membership.HeartbeatAsync(SealedHeartbeat(n4Sealer, "n1", 0));
            Assert.AreEqual((Refusal.Reseal, "n1"), (hello.Refusal, hello.Sender));
            var probe = SealedHeartbeat(n4Sealer, "n1", hello.Incarnation);
            var answer = await membership.HeartbeatAsync(probe);
            Assert.IsTrue(n4Sealer.Codec.HasValidMac(MethodPaths.Heartbeat, EnvelopeKind.Reply, answer), "the reply is sealed too");
            Assert.AreEqual(("n1", Refusal.None, "n4"), (answer.Sender, answer.Refusal, answer.Recipient));
            Assert.AreEqual(probe.Seq, answer.ReplyTo);
            var replayError = await Assert.ThrowsExactlyAsync<RpcException>(async () => await membership.HeartbeatAsync(probe));
            Assert.AreEqual(StatusCode.Unauthenticated, replayError.StatusCode);

            using (var admin1 = FarmdAdminClient.ForSocket(n1.AdminSocket))
            {
                var s = await admin1.GetStatusAsync();
                var badMac = s.Rejected.Single(r => r.Reason == "bad_mac");
                Assert.AreEqual(("127.0.0.1", 1UL, "n2"), (badMac.Source, badMac.Count, badMac.LastClaimedSender));
                var replayed = s.Rejected.Single(r => r.Reason == "replayed");
                Assert.AreEqual(("127.0.0.1", 1UL, "n4"), (replayed.Source, replayed.Count, replayed.LastClaimedSender));
                Assert.IsFalse(s.Rejected.Any(r => r.Source != "127.0.0.1"), "honest peers were never refused: " + s.Rejected);
            }

            // 3. n4 with a cluster file that differs (its own priority; weights may differ) stays out, and status names both hashes.
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(otherFile, "n4", Dir)));
            var n4 = processes[3];
            await WaitUntilReadyAsync([n4]);
            using (var admin1 = FarmdAdminClient.ForSocket(n1.AdminSocket))
            {
                var s = await Poll.UntilAsync(() => admin1.GetStatusAsync(),
                    s => s.ConfigMismatches.Any(m => m.Node == "n4" && m.TheirHash == otherHash), "n1 reports n4's config mismatch", TimeSpan.FromSeconds(10), CancellationToken.None);
                var mismatch = s.ConfigMismatches.Single();
                Assert.AreEqual(hash, mismatch.OurHash);
                var n4Status = s.Nodes.Single(n => n.Name == "n4");
                Assert.AreEqual((NodeState.Excluded, false, false, otherHash), (n4Status.State, n4Status.InView, n4Status.ConfigMatches, n4Status.ConfigHash));
                CollectionAssert.AreEqual(new[] { "n1", "n2", "n3" }, InView(s).ToArray());
            }

            using (var admin4 = FarmdAdminClient.ForSocket(n4.AdminSocket))
            {
                var s = await Poll.UntilAsync(() => admin4.GetStatusAsync(), s => s.ConfigMismatches.Count == 3, "n4 reports the mismatch too", TimeSpan.FromSeconds(10), CancellationToken.None);
                Assert.IsTrue(s.ConfigMismatches.All(m => m.TheirHash == hash && m.OurHash == otherHash));
                Assert.AreEqual(0, s.InstalledEpoch, "n4 must not start a farm of its own");
            }

            // 4. kill -9 n3: n1 and n2 install a view without it (watched through WatchStatus).
            using var watchClient = FarmdAdminClient.ForSocket(n1.AdminSocket);
            using var watchCancel = new CancellationTokenSource();
            var reports = watchClient.WatchStatusAsync(watchCancel.Token).GetAsyncEnumerator(watchCancel.Token);
            Assert.IsTrue(await reports.MoveNextAsync().AsTask().WithTimeout(), "WatchStatus sends the current status first");
            var before = reports.Current;
            Assert.IsTrue(InView(before).Contains("n3"));

            var clock = Stopwatch.StartNew();
            n3.Kill();
            NodeStatusReport? after = null;
            int updates = 0;
            while (await reports.MoveNextAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(15)))
            {
                updates++;
                if (!InView(reports.Current).Contains("n3"))
                {
                    after = reports.Current;
                    break;
                }
            }

            clock.Stop();
            testContext.WriteLine($"kill -9 n3 -> view without n3 after {clock.ElapsedMilliseconds} ms ({updates} WatchStatus updates)");
            Console.WriteLine($"kill -9 n3 -> view without n3 after {clock.ElapsedMilliseconds} ms ({updates} WatchStatus updates)");
            Assert.IsNotNull(after);
            CollectionAssert.AreEqual(new[] { "n1", "n2" }, InView(after).ToArray());
            Assert.IsTrue(after.InstalledEpoch > before.InstalledEpoch);
            Assert.AreEqual(NodeState.Down, after.Nodes.Single(n => n.Name == "n3").State);
            Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(10), $"detection took {clock.Elapsed}");
            await watchCancel.CancelAsync();
            await reports.DisposeAsync();

            using (var admin2 = FarmdAdminClient.ForSocket(n2.AdminSocket))
            {
                await Poll.UntilAsync(() => admin2.GetStatusAsync(), s => InView(s).SequenceEqual(["n1", "n2"]), "n2 installs the view without n3 too", TimeSpan.FromSeconds(5), CancellationToken.None);
            }

            // 5. SIGTERM n1: it leaves, tells systemd, exits 0 and removes its socket.
            await n1.TerminateAsync();
            await n1.WaitForExitAsync(TimeSpan.FromSeconds(15));
            Assert.AreEqual(0, n1.ExitCode, n1.Output);
            Assert.AreEqual("STOPPING=1", await notify.NextLifecycleAsync());
            Assert.IsFalse(File.Exists(n1.AdminSocket), "the admin socket is removed on stop");
            StringAssert.Contains(n1.Output, "Left the farm");
            string log = await File.ReadAllTextAsync(Directory.GetFiles(logDir, "farmd-*.log").Single());
            StringAssert.Contains(log, "farmd started: node n1");
        }
        catch
        {
            ScratchRun.WriteOutputs(processes, p => p.Output, testContext.WriteLine);
            throw;
        }
        finally
        {
            await ScratchRun.StopAsync(processes);
        }
    }

    [TestMethod]
    public async Task Farmd_UnknownNode_ExitsOneListingValidNames()
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", 9400);
        await using var p = FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "nx", Dir));
        await p.WaitForExitAsync(TimeSpan.FromSeconds(15));

        Assert.AreEqual(1, p.ExitCode);
        StringAssert.Contains(p.Output, "node 'nx' is not in");
        StringAssert.Contains(p.Output, "its nodes are: n1, n2, n3, n4");
    }

    private static IEnumerable<string> InView(NodeStatusReport status) => status.Nodes.Where(n => n.InView).Select(n => n.Name);

    private static Envelope SealedHeartbeat(TestSealer sealer, string recipient, long recipientIncarnation)
    {
        var payload = new HeartbeatRequest { Sender = new Member { Name = sealer.Sender, Incarnation = sealer.Incarnation, Weight = 100 }, ConfigHash = "test-probe" };
        return sealer.Request(MethodPaths.Heartbeat, payload, recipient, recipientIncarnation);
    }

    private static async Task WaitUntilReadyAsync(IEnumerable<FarmdProcess> processes)
    {
        foreach (var p in processes)
        {
            await p.WaitForReadyAsync(TimeSpan.FromSeconds(15));
            Assert.IsFalse(p.HasExited, $"{p.Node} exited early:\n{p.Output}");
        }
    }

    private static string ModeOf(string path)
    {
        var mode = File.GetUnixFileMode(path);
        var sb = new StringBuilder("-");
        sb.Append(mode.HasFlag(UnixFileMode.UserRead) ? 'r' : '-').Append(mode.HasFlag(UnixFileMode.UserWrite) ? 'w' : '-').Append(mode.HasFlag(UnixFileMode.UserExecute) ? 'x' : '-');
        sb.Append(mode.HasFlag(UnixFileMode.GroupRead) ? 'r' : '-').Append(mode.HasFlag(UnixFileMode.GroupWrite) ? 'w' : '-').Append(mode.HasFlag(UnixFileMode.GroupExecute) ? 'x' : '-');
        sb.Append(mode.HasFlag(UnixFileMode.OtherRead) ? 'r' : '-').Append(mode.HasFlag(UnixFileMode.OtherWrite) ? 'w' : '-').Append(mode.HasFlag(UnixFileMode.OtherExecute) ? 'x' : '-');
        return sb.ToString();
    }
}
