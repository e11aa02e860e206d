using Farm.Cli.Modules;
using Farm.Cli.Tests.Status;
using Farm.Protocol.V1;
using Farm.Protocol.Json;
using Farm.Testing.Processes;

namespace Farm.Cli.Tests.Modules;

[TestClass]
public sealed class ModuleCommandsTests(TestContext testContext)
{
    [TestMethod]
    [DataRow("start")]
    [DataRow("stop")]
    [DataRow("restart")]
    [DataRow("logs")]
    public void Help_EveryModuleCommand_ShowsItsUsage(string command)
    {
        var run = CliRun.Of(command, "--help");
        Assert.AreEqual(0, run.ExitCode, run.Error);
        StringAssert.Contains(run.Output, "MODULE");
        StringAssert.Contains(run.Output, "--json");
    }

    [TestMethod]
    [DataRow(new[] { "stop", "web", "--node", "n1", "--all" }, "--node and --all exclude each other")]
    [DataRow(new[] { "start", "web", "--host", "10.0.0.1", "--key-file", "k", "--all" }, "relay through the local farmd")]
    [DataRow(new[] { "restart", "web", "--wait", "soon" }, "--wait 'soon' is not a duration")]
    [DataRow(new[] { "restart", "web", "--wait", "256204778h" }, "--wait '256204778h' is longer than 10m, the longest farmd waits")]
    [DataRow(new[] { "logs", "web", "--lines", "-1" }, "--lines must be 0 or more")]
    [DataRow(new[] { "stop" }, "Required argument 'MODULE' missing")]
    public void Run_BadModuleCommandLine_IsUsageErrorExitTwo(string[] args, string message)
    {
        var run = CliRun.Of(args);
        Assert.AreEqual(2, run.ExitCode);
        StringAssert.Contains(run.Error, message);
    }

    [TestMethod]
    public void Outcome_SettledWhereTheActionAims_IsDoneElseFailedOrPending()
    {
        var up = new ModuleControlResult { Node = "n1", Settled = true, Module = new ModuleReport { State = ModuleRunState.Up, SubState = ModuleSubState.Ready } };
        var stopFailed = new ModuleControlResult { Node = "n1", Settled = true, Module = new ModuleReport { State = ModuleRunState.Stop, SubState = ModuleSubState.NotReady } };
        var moving = new ModuleControlResult { Node = "n1", Settled = false, Module = new ModuleReport { State = ModuleRunState.Wait, SubState = ModuleSubState.Transient } };
        Assert.AreEqual("done", ModuleCommand.Outcome(up, ModuleAction.Start, waited: true));
        Assert.AreEqual("failed", ModuleCommand.Outcome(up, ModuleAction.Stop, waited: true));
        Assert.AreEqual("failed", ModuleCommand.Outcome(stopFailed, ModuleAction.Stop, waited: true));
        Assert.AreEqual("pending", ModuleCommand.Outcome(moving, ModuleAction.Start, waited: true));
        Assert.AreEqual("accepted", ModuleCommand.Outcome(moving, ModuleAction.Start, waited: false));
        Assert.AreEqual("failed", ModuleCommand.Outcome(new ModuleControlResult { Node = "n2", Error = "cannot reach n2" }, ModuleAction.Start, waited: false));
    }

    [TestMethod]
    public void LogsFormat_TextAndJson_OneLinePerLogLineAndTheLostCount()
    {
        var batch = new ModuleLogBatch { Node = "n1", Module = "web", Dropped = 3 };
        batch.Lines.Add(new ModuleLogLine { Seq = 7, UnixMs = 1764000000123, Level = "warning", Text = "web/stop_both overran" });

        var text = LogsCommand.Format(batch, asJson: false).ToList();
        StringAssert.Contains(text[0], "3 line(s) lost");
        StringAssert.EndsWith(text[1], " WRN web/stop_both overran");

        var json = LogsCommand.Format(batch, asJson: true).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.AreEqual(3, json[0].GetProperty("dropped").GetInt32());
        Assert.AreEqual(7, json[1].GetProperty("seq").GetInt64());
        Assert.AreEqual("warning", json[1].GetProperty("level").GetString());
        Assert.AreEqual("2025-11-24T16:00:00.1230000+00:00", json[1].GetProperty("time").GetString());
    }

    [TestMethod]
    public void LogsFormat_TextWithTerminalEscapes_PrintsThemWrittenOutAndJsonKeepsThemEscaped()
    {
        var batch = new ModuleLogBatch { Node = "n1", Module = "web" };
        batch.Lines.Add(new ModuleLogLine { Seq = 1, UnixMs = 1764000000123, Level = "info", Text = "web/start_both: \u001b]0;owned\u0007\u001b[2Jhi\rFAKE" });

        string text = LogsCommand.Format(batch, asJson: false).Single();
        string json = LogsCommand.Format(batch, asJson: true).Single();

        StringAssert.EndsWith(text, " INF web/start_both: \\x1b]0;owned\\x07\\x1b[2Jhi\\x0dFAKE");
        Assert.IsFalse(text.Any(char.IsControl), text);
        Assert.IsFalse(json.Any(char.IsControl), json);
        Assert.AreEqual("web/start_both: \u001b]0;owned\u0007\u001b[2Jhi\rFAKE", JsonDocument.Parse(json).RootElement.GetProperty("text").GetString());
    }

    [TestMethod]
    public void Status_WithModules_TableHasTheModuleSectionAndJsonTheModuleStates()
    {
        var report = StatusSamples.Report();
        var module = new ModuleReport
        {
            Module = "web", Mode = "balance", State = ModuleRunState.Wait, SubState = ModuleSubState.NotReady, Reason = "checker port down: connection refused",
            SinceUnixMs = 1764000000000, RecoveryCount = 1, MaxLoop = 3, TrafficOpen = false, DataPlane = "running",
        };
        module.Checkers.Add(new CheckerReport { Name = "port", Type = "tcp", Action = "wait", Up = false, Detail = "connection refused", SinceUnixMs = 1764000000000 });
        module.Checkers.Add(new CheckerReport { Name = "app", Type = "process", Action = "restart", Detail = "" });
        report.Modules.Add(module);

        using var output = new StringWriter();
        StatusTable.Render(CliTerminal.Redirected.CreateConsole(output), report, new FixedTime(DateTimeOffset.FromUnixTimeMilliseconds(1764000012000)));
        string table = output.ToString();
        StringAssert.Contains(table, "Modules on n1:");
        StringAssert.Matches(table, new System.Text.RegularExpressions.Regex(@"web\s+balance\s+WAIT/NotReady\s+12\.0s ago\s+-\s+closed\s+-\s+1/3\s+checker port down: connection refused"));
        StringAssert.Matches(table, new System.Text.RegularExpressions.Regex(@"web\s+port\s+tcp\s+wait\s+down\s+connection refused"));

        var json = JsonDocument.Parse(StatusJson.Format(report, indented: true)).RootElement.GetProperty("module_states")[0];
        Assert.AreEqual("WAIT", json.GetProperty("state").GetString());
        Assert.AreEqual("not_ready", json.GetProperty("sub_state").GetString());
        Assert.AreEqual(JsonValueKind.Null, json.GetProperty("step").ValueKind);
        Assert.IsFalse(json.GetProperty("checkers")[0].GetProperty("up").GetBoolean());
        Assert.AreEqual(JsonValueKind.Null, json.GetProperty("checkers")[1].GetProperty("up").ValueKind);
    }

    [TestMethod]
    [Timeout(90_000, CooperativeCancellation = true)]
    public async Task StopStartLogs_TwoFarmdProcesses_ActLocallyAndThroughTheRelay()
    {
        await using var farm = new LoopbackFarmd("farmctl-modules-", nodes: 2);
        string dir = farm.Directory;
        var cluster = farm.Cluster("modules", "farmctl-modules-key-0123456789abcdef") with { Heartbeat = new HeartbeatOptions() };
        string clusterFile = farm.WriteCluster(cluster);
        string modules = farm.WriteModule(LoopbackFarmd.Module("app", 256));
        Directory.CreateDirectory(Path.Combine(modules, "app", "bin"));
        foreach (string script in new[] { "start_both", "stop_both" })
        {
            string path = Path.Combine(modules, "app", "bin", script);
            await File.WriteAllTextAsync(path, $"#!/bin/bash\necho \"{script} ($FARM_ACTION) on $FARM_NODE\"\n", testContext.CancellationToken);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        try
        {
            await farm.StartAllAsync(clusterFile, modules, testContext.CancellationToken);
            string socket = Path.Combine(dir, "n1.sock");

            // Stop on both nodes through n1 (n2 through the relay), waiting until they settled.
            var stop = await TestCli.RunAsync(["stop", "app", "--socket", socket, "--node", "n1", "--node", "n2", "--json"], cancellationToken: testContext.CancellationToken);
            Assert.AreEqual(0, stop.ExitCode, stop.Output + stop.Error);
            var results = JsonDocument.Parse(stop.Output).RootElement.GetProperty("results");
            CollectionAssert.AreEqual(new[] { "n1", "n2" }, results.EnumerateArray().Select(r => r.GetProperty("node").GetString()).ToArray());
            Assert.IsTrue(results.EnumerateArray().All(r => r.GetProperty("outcome").GetString() == "done" && r.GetProperty("state").GetProperty("state").GetString() == "STOP"), stop.Output);
            StringAssert.Contains(results[0].GetProperty("state").GetProperty("reason").GetString()!, "admin stop by farmctl@");

            var start = await TestCli.RunAsync(["start", "app", "--socket", socket, "--all"], cancellationToken: testContext.CancellationToken);
            Assert.AreEqual(0, start.ExitCode, start.Output + start.Error);
            StringAssert.Matches(start.Output, new System.Text.RegularExpressions.Regex(@"n2\s+app\s+done\s+UP/Ready"));

            var logs = await TestCli.RunAsync(["logs", "app", "--socket", socket, "--lines", "0"], cancellationToken: testContext.CancellationToken);
            Assert.AreEqual(0, logs.ExitCode, logs.Error);
            StringAssert.Contains(logs.Output, "app/stop_both: stop_both (stop) on n1");
            StringAssert.Contains(logs.Output, "Module app is UP/Ready: started");

            // Restart in both forms: JSON names each node's outcome and state; the table shows the same.
            var restartJson = await TestCli.RunAsync(["restart", "app", "--socket", socket, "--json"], cancellationToken: testContext.CancellationToken);
            Assert.AreEqual(0, restartJson.ExitCode, restartJson.Output + restartJson.Error);
            var restarted = JsonDocument.Parse(restartJson.Output).RootElement.GetProperty("results").EnumerateArray().Single();
            Assert.AreEqual(("n1", "done", "UP"), (restarted.GetProperty("node").GetString(), restarted.GetProperty("outcome").GetString(), restarted.GetProperty("state").GetProperty("state").GetString()));
            var restartTable = await TestCli.RunAsync(["restart", "app", "--socket", socket], cancellationToken: testContext.CancellationToken);
            Assert.AreEqual(0, restartTable.ExitCode, restartTable.Output + restartTable.Error);
            StringAssert.Matches(restartTable.Output, new System.Text.RegularExpressions.Regex(@"n1\s+app\s+done\s+UP/Ready"));

            // Logs as JSON: one object per line, the same lines the table shows.
            var logsJson = await TestCli.RunAsync(["logs", "app", "--socket", socket, "--lines", "0", "--json"], cancellationToken: testContext.CancellationToken);
            Assert.AreEqual(0, logsJson.ExitCode, logsJson.Error);
            var entries = logsJson.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.IsTrue(entries.All(e => e.GetProperty("node").GetString() == "n1" && e.GetProperty("module").GetString() == "app"), logsJson.Output);
            Assert.IsTrue(entries.Any(e => e.GetProperty("text").GetString()!.Contains("app/stop_both: stop_both (stop) on n1", StringComparison.Ordinal)), logsJson.Output);
            Assert.IsTrue(entries.Any(e => e.GetProperty("text").GetString()!.Contains("Module app is UP/Ready", StringComparison.Ordinal)), logsJson.Output);

            var status = await TestCli.RunAsync(["status", "--socket", socket], cancellationToken: testContext.CancellationToken);
            StringAssert.Contains(status.Output, "Modules on n1:");
            testContext.WriteLine(status.Output);

            var unknown = await TestCli.RunAsync(["restart", "nope", "--socket", socket], cancellationToken: testContext.CancellationToken);
            Assert.AreEqual(1, unknown.ExitCode);
            StringAssert.Contains(unknown.Error, "farmctl: unknown module 'nope' (modules: app)");
        }
        catch
        {
            farm.WriteOutputs(testContext.WriteLine);
            throw;
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
