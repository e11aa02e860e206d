namespace Farm.Daemon.Tests.Processes;

/// <summary>
/// Rolling upgrades of Farm itself: a node of the next release (it speaks protocol 2 and 3, played with the test-only
/// FARM_TEST_PROTOCOL) forms one farm with nodes of this release; a node two releases ahead (3 and 4 only) is refused
/// with the reason in status and logs. A node without the heartbeat stream (FARM_TEST_NO_HEARTBEAT_STREAM) gets unary
/// heartbeats.
/// </summary>
[TestClass]
public sealed class ProtocolVersionTests() : TempDirectoryTest("farmd-proto-")
{
    [TestMethod]
    public async Task Farmd_NodesOneReleaseApart_OneFarmTwoReleasesApart_RefusedWithReason()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port);
        var processes = new List<FarmdProcess>();
        try
        {
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n1", Dir)));
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n2", Dir) with
            {
                // The next release, and one from before the heartbeat stream: n1 must fall back to unary heartbeats.
                Environment = new Dictionary<string, string> { ["FARM_TEST_PROTOCOL"] = "2-3", ["FARM_TEST_NO_HEARTBEAT_STREAM"] = "1" },
            }));
            foreach (var p in processes)
            {
                await p.WaitForReadyAsync(TimeSpan.FromSeconds(15));
            }

            using var admin1 = processes[0].CreateAdminClient();
            await Poll.UntilAsync(() => admin1.GetStatusAsync(), s => s.Nodes.Count(n => n.InView) == 2, "n1 (protocol 2) and n2 (2-3) form one farm", TimeSpan.FromSeconds(15), CancellationToken.None);
            StringAssert.Contains(processes[0].Output, "n2 serves no heartbeat stream on LAN 0 (an older farmd): heartbeats go as unary calls");
            var stable = await admin1.GetStatusAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.AreEqual(stable.InstalledEpoch, (await admin1.GetStatusAsync()).InstalledEpoch, "unary heartbeats keep n2 in the view");

            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n3", Dir) with { Environment = new Dictionary<string, string> { ["FARM_TEST_PROTOCOL"] = "3-4" } }));
            var n3 = processes[2];
            await n3.WaitForReadyAsync(TimeSpan.FromSeconds(15));
            var status = await Poll.UntilAsync(() => admin1.GetStatusAsync(),
                s => s.Rejected.Any(r => r.Reason == "unsupported_protocol" && r.LastClaimedSender == "n3"), "n1 counts n3's protocol as unsupported", TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.IsFalse(status.Nodes.Single(n => n.Name == "n3").InView, "n3 is not admitted by n1");

            await Poll.UntilAsync(() => Task.FromResult(n3.Output), o => o.Contains("n1 refuses this node's protocol: it speaks farm protocol 2-2, this node 3-4", StringComparison.Ordinal),
                "n3 logs why n1 refuses it", TimeSpan.FromSeconds(10), CancellationToken.None);

            // n2 speaks 3 too: n3 and n2 talk, but the view stays the one n1 is in (n1 never hears n3).
            using var admin2 = processes[1].CreateAdminClient();
            var s2 = await admin2.GetStatusAsync();
            Assert.IsFalse(s2.Rejected.Any(r => r.LastClaimedSender is "n1" or "n2"), "the two releases one apart never refuse each other: " + s2.Rejected);
        }
        finally
        {
            await ScratchRun.StopAsync(processes);
        }
    }
}
