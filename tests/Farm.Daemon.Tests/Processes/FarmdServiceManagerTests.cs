namespace Farm.Daemon.Tests.Processes;

/// <summary>farmd talking sd_notify to a socket the test holds, as systemd's would be: readiness, status, watchdog.</summary>
[TestClass]
public sealed class FarmdServiceManagerTests(TestContext testContext) : TempDirectoryTest("farmd-notify-")
{
    [TestMethod]
    public async Task Farmd_NotifySocketWithWatchdog_ReadyInViewFedWhileTickingAndNotOnceHeartbeatFreezes()
    {
        using var notify = new NotifySocket(Dir);
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        var environment = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = notify.Path,
            ["WATCHDOG_USEC"] = "2000000",
            ["FARMD_TEST_HOOKS"] = "1",
        };
        await using var n1 = FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n1", Dir) with { Environment = environment });
        try
        {
            // 1. Alone of four nodes (policy none) it waits, says so, installs a view of itself after the startup grace,
            //    and only then is ready.
            var beforeReady = await notify.UntilAsync(s => s == "READY=1", TimeSpan.FromSeconds(20));
            var waiting = beforeReady.Where(s => s.StartsWith("STATUS=", StringComparison.Ordinal)).ToList();
            Assert.IsTrue(waiting.Count > 0, "a status before READY: " + string.Join(" | ", beforeReady));
            Assert.AreEqual("STATUS=waiting to join a view: 1 of 4 nodes reachable (split brain policy none)", waiting[0]);
            var inView = await notify.UntilAsync(s => s.StartsWith("STATUS=view ", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
            StringAssert.EndsWith(inView[^1], ": n1 (1 of 4)");

            // 2. Fed while the heartbeat thread ticks: every poll (200 ms, a quarter of 2 s would be 500 ms).
            var fed = await notify.ForAsync(TimeSpan.FromSeconds(1.5));
            int feeds = fed.Count(s => s == "WATCHDOG=1");
            Assert.IsTrue(feeds >= 4, $"{feeds} feeds in 1.5 s: {string.Join(" | ", fed)}");

            // 3. The test hook freezes the heartbeat thread: within interval + half the timeout the feeding stops and
            //    farmd says why (systemd would now restart it).
            await CommandRunner.Default.RunAsync("kill", ["-USR1", n1.Id.ToString(CultureInfo.InvariantCulture)]);
            await Poll.UntilAsync(() => Task.FromResult(n1.Output), o => o.Contains("Heartbeat thread made no tick", StringComparison.Ordinal),
                "farmd reports the stalled heartbeat thread", TimeSpan.FromSeconds(10), CancellationToken.None);
            await notify.ForAsync(TimeSpan.FromMilliseconds(300)); // what was sent before the report
            var afterStall = await notify.ForAsync(TimeSpan.FromSeconds(2));
            Assert.AreEqual(0, afterStall.Count(s => s == "WATCHDOG=1"), "no feed after the stall: " + string.Join(" | ", afterStall));
            StringAssert.Contains(n1.Output, "Test hooks are on (FARMD_TEST_HOOKS=1)");
            Assert.IsFalse(n1.HasExited, "only the heartbeat thread froze");

            // 4. SIGTERM: STOPPING=1, then how long the stop may take: no module here, so the leave (5 s), the host's
            //    10 s and the 15 s margin; then a clean exit (the stop releases the frozen thread).
            await n1.TerminateAsync();
            var stopping = await notify.UntilAsync(s => s.StartsWith("STATUS=stopping", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            var lifecycle = stopping.Where(s => !s.StartsWith("WATCHDOG=", StringComparison.Ordinal)).ToList();
            CollectionAssert.AreEqual(
                new[] { "STOPPING=1", "EXTEND_TIMEOUT_USEC=30000000", "STATUS=stopping: modules stop, then the node leaves the farm (at most 30 s)" },
                lifecycle.Where(s => !s.StartsWith("STATUS=view", StringComparison.Ordinal)).ToList());
            Assert.AreEqual(0, await n1.WaitForExitAsync(TimeSpan.FromSeconds(30)), n1.Output);
        }
        catch
        {
            ScratchRun.WriteOutputs([n1], p => p.Output, testContext.WriteLine);
            throw;
        }
        finally
        {
            await ScratchRun.StopAsync([n1]);
        }
    }

    [TestMethod]
    public async Task Farmd_WithoutTestHooks_Sigusr1EndsTheProcess()
    {
        // The hook is off unless asked for: SIGUSR1 keeps its default action, nothing freezes silently in production.
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        await using var n1 = FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n1", Dir));
        await n1.WaitForReadyAsync(TimeSpan.FromSeconds(15));

        await CommandRunner.Default.RunAsync("kill", ["-USR1", n1.Id.ToString(CultureInfo.InvariantCulture)]);

        Assert.AreEqual(128 + 10, await n1.WaitForExitAsync(TimeSpan.FromSeconds(10)), n1.Output);
        Assert.IsFalse(n1.Output.Contains("Test hooks are on", StringComparison.Ordinal));
    }
}
