using static Farm.Modules.Tests.TestSupport.TestModules;

namespace Farm.Modules.Tests;

[TestClass]
public sealed class ModuleManagerTests : IDisposable
{
    private readonly TestJournal journal = new();
    private readonly ManualTimeProvider time = new();
    private readonly TestLogSink logs = new();
    private readonly Dictionary<string, FakeChecker> checkers = new();
    private readonly RecordingObserver observer = new();
    private FakeScriptRunner runner = null!;
    private FakeTrafficGate gate = null!;

    public void Dispose() => logs.Dispose();

    [TestInitialize]
    public void Init()
    {
        runner = new FakeScriptRunner(journal);
        gate = new FakeTrafficGate(journal);
    }

    [TestMethod]
    public async Task Start_RunsScriptsWaitsForCheckersAndOpensTraffic()
    {
        await using var manager = Create(Module(checkers: Tcp("web-tcp")));

        manager.Start("boot");
        var status = await manager.WaitForStatusAsync(s => s.IsReadyForTraffic, Poll.Deadline()).WithTimeout();
        await journal.WaitForLastAsync("open");

        Assert.AreEqual("started", status.Reason);
        CollectionAssert.AreEqual(new[] { "prestart", "start_both", "open" }, journal.ToArray());
        Assert.IsTrue(gate.Open);
        logs.AssertNoErrors();
    }

    [TestMethod]
    public async Task Scripts_GetTheTransitionAsArgumentsAndEnvironment()
    {
        await using var manager = Create(Module());
        manager.Start("boot");
        await manager.WaitForStatusAsync(s => s.IsReadyForTraffic, Poll.Deadline()).WithTimeout();

        var request = runner.Requests.Single(r => r.Name == "start_both");

        CollectionAssert.AreEqual(new[] { "web", "node1", "198.18.100.1", "STOP", "UP", "start", "42" }, request.Arguments.ToArray());
        Assert.AreEqual("UP", request.Environment["FARM_NEXT_STATE"]);
        Assert.AreEqual("STOP", request.Environment["FARM_STATE"]);
        Assert.AreEqual("start", request.Environment["FARM_ACTION"]);
        Assert.AreEqual("42", request.Environment["FARM_EPOCH"]);
        Assert.AreEqual("node1", request.Environment["FARM_NODE"]);
        Assert.AreEqual("boot", request.Environment["FARM_REASON"]);
        Assert.AreEqual(Path.Combine("/modules/web", "bin", "start_both"), request.Path);
        Assert.AreEqual((TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), false), (request.Timeout, request.ForceTimeout, request.ForceOnTimeout));
    }

    [TestMethod]
    public async Task CheckerDown_Restart_ClosesTrafficBeforeStopBothAndReopens()
    {
        var config = Module(checkers: Tcp("web-tcp")) with { Scripts = [new ScriptConfig { Name = "stop_both", Timeout = TimeSpan.FromSeconds(5) }] };
        await using var manager = await StartedAsync(config);
        journal.Clear();

        checkers["web-tcp"].Up = false;
        await time.WaitForTimerAsync(CheckerConfig.DefaultInterval, Poll.Deadline()); // the checker waits for its next round
        time.Advance(CheckerConfig.DefaultInterval);
        await manager.WaitForStatusAsync(s => s.State == ModuleState.Up && s.SubState == ModuleSubState.Transient, Poll.Deadline()).WithTimeout();
        checkers["web-tcp"].Up = true;
        var status = await manager.WaitForStatusAsync(s => s.IsReadyForTraffic, Poll.Deadline()).WithTimeout();
        await journal.WaitForLastAsync("open");

        Assert.AreEqual("restarted after checker web-tcp down: connection refused", status.Reason);
        CollectionAssert.AreEqual(new[] { "close", "closed", "stop_both", "start_both", "open" }, journal.ToArray());
        var stop = runner.Requests.Single(r => r.Name == "stop_both");
        Assert.AreEqual((TimeSpan.FromSeconds(5), true), (stop.Timeout, stop.ForceOnTimeout));
        Assert.AreEqual(1, status.RecoveryCount);
    }

    [TestMethod]
    public async Task Stop_WhenTheGateNeverConfirms_StopsAfterDrainPlusConfirmTimeout()
    {
        await using var manager = await StartedAsync(Module());
        gate.NeverConfirmClose = true;

        manager.Stop("admin stop");
        var bound = ModuleTimeoutOptions.DefaultDrain + ModuleHostOptions.DefaultGateConfirmTimeout;
        await time.WaitForTimerAsync(bound, Poll.Deadline());
        Assert.DoesNotContain("stop_both", journal.ToArray());
        time.Advance(bound);
        var status = await manager.WaitForStatusAsync(s => s.IsStopped, Poll.Deadline()).WithTimeout();

        Assert.AreEqual(ModuleSubState.Ready, status.SubState);
        Assert.Contains("stop_both", journal.ToArray());
        Assert.IsTrue(logs.Messages.Any(m => m.Contains("did not confirm 'close'", StringComparison.Ordinal)));
    }

    [TestMethod]
    public async Task StopAndWaitAsync_CompletesWhenStopped()
    {
        await using var manager = await StartedAsync(Module());

        var status = await manager.StopAndWaitAsync("shutdown", Poll.Deadline()).WithTimeout();

        Assert.AreEqual((ModuleState.Stop, ModuleSubState.Ready, "shutdown"), (status.State, status.SubState, status.Reason));
        CollectionAssert.AreEqual(new[] { "prestart", "start_both", "open", "close", "closed", "stop_both", "poststop" }, journal.ToArray());
    }

    [TestMethod]
    public async Task StopAndWaitAsync_RightAfterStart_DoesNotEndBeforeTheStart()
    {
        await using var manager = Create(Module());
        runner.Hold("start_both");

        manager.Start("boot");
        var stopping = manager.StopAndWaitAsync("shutdown", Poll.Deadline());
        Assert.IsFalse(stopping.IsCompleted);
        runner.Release("start_both");
        await stopping.WithTimeout();

        Assert.AreEqual("poststop", journal.ToArray()[^1]);
    }

    [TestMethod]
    public async Task ScriptFailure_IsAnErrorWithAClearReason()
    {
        await using var manager = Create(Module());
        runner.SetResult("start_both", new ScriptResult(ScriptOutcome.TimedOut, null, "timed out after 1m; killed", "waiting for db"));

        manager.Start("boot");
        var status = await manager.WaitForStatusAsync(s => s.SubState == ModuleSubState.NotReady, Poll.Deadline()).WithTimeout();

        Assert.AreEqual(ModuleState.Stop, status.State);
        Assert.AreEqual("start_both failed: timed out after 1m; killed (waiting for db)", status.Reason);
        CollectionAssert.AreEqual(new[] { "prestart", "start_both", "stop_both", "poststop" }, journal.ToArray());
    }

    [TestMethod]
    public async Task HangingChecker_CountsAsDownAtItsTimeout()
    {
        var config = Module(checkers: Tcp("web-tcp", CheckerAction.Wait));
        await using var manager = await StartedAsync(config);
        checkers["web-tcp"].Hang = true;

        await time.WaitForTimerAsync(CheckerConfig.DefaultInterval, Poll.Deadline()); // the checker waits for its next round
        time.Advance(CheckerConfig.DefaultInterval);
        await time.WaitForTimerAsync(CheckerConfig.DefaultTimeout, Poll.Deadline());
        time.Advance(CheckerConfig.DefaultTimeout);
        var status = await manager.WaitForStatusAsync(s => s.State == ModuleState.Wait && s.SubState == ModuleSubState.NotReady, Poll.Deadline()).WithTimeout();

        Assert.AreEqual("checker web-tcp down: no answer within 2s", status.Reason);
        Assert.IsFalse(gate.Open);
    }

    [TestMethod]
    public async Task Single_BecomePrimary_RunsStartPrimThenTellsTheGate()
    {
        await using var manager = await StartedAsync(Module(ModuleMode.Single));
        journal.Clear();

        manager.BecomePrimary();
        var status = await manager.WaitForStatusAsync(s => s.IsPrimary, Poll.Deadline()).WithTimeout();
        await journal.WaitForLastAsync("primary");

        CollectionAssert.AreEqual(new[] { "start_prim", "primary" }, journal.ToArray());
        Assert.IsTrue(status.IsReadyForTraffic);
        Assert.IsTrue(gate.Primary);

        manager.StopBeingPrimary();
        await manager.WaitForStatusAsync(s => !s.IsPrimary && s.IsReadyForTraffic, Poll.Deadline()).WithTimeout();
        CollectionAssert.AreEqual(new[] { "start_prim", "primary", "secondary", "stop_prim" }, journal.ToArray());
    }

    [TestMethod]
    public async Task StatusChanged_IsRaisedForEveryChange()
    {
        await using var manager = Create(Module());
        var seen = new ConcurrentQueue<ModuleStatus>();
        manager.StatusChanged += (_, s) => seen.Enqueue(s);

        manager.Start("boot");
        await manager.WaitForStatusAsync(s => s.IsReadyForTraffic, Poll.Deadline()).WithTimeout();

        Assert.IsTrue(seen.Any(s => s.Step == "start_both"));
        Assert.IsTrue(seen.Last().IsReadyForTraffic);
    }

    private ModuleManager Create(ModuleConfig config)
    {
        foreach (var checker in config.Checkers)
        {
            checkers[checker.Name] = new FakeChecker();
        }

        var options = new ModuleHostOptions { NodeName = "node1", ModuleDirectory = "/modules/web", Observer = observer };
        return new ModuleManager(config, options, gate, runner, c => checkers[c.Name], time, logs.CreateLogger<ModuleManager>());
    }

    [TestMethod]
    public async Task Observer_CheckerDownRestartThenFailedStart_HearsChecksScriptsAndTheRecovery()
    {
        await using var manager = await StartedAsync(Module(checkers: Tcp("web-tcp")));
        runner.SetResult("start_both", ScriptResult.Fail(3));

        checkers["web-tcp"].Up = false;
        await time.WaitForTimerAsync(CheckerConfig.DefaultInterval, Poll.Deadline()); // the checker waits for its next round
        time.Advance(CheckerConfig.DefaultInterval);
        await manager.WaitForStatusAsync(s => s.IsStopped, Poll.Deadline()).WithTimeout();

        var events = observer.Events.ToArray();
        CollectionAssert.IsSubsetOf(
            new[] { "script prestart succeeded", "script start_both succeeded", "check web-tcp up", "check web-tcp down", "recovery restart", "script stop_both succeeded", "script start_both failed" },
            events);
        Assert.IsLessThan(Array.IndexOf(events, "script stop_both succeeded"), Array.IndexOf(events, "recovery restart"), "the recovery is heard when it starts");
        Assert.AreEqual(1, events.Count(e => e.StartsWith("recovery", StringComparison.Ordinal)));
    }

    private async Task<ModuleManager> StartedAsync(ModuleConfig config)
    {
        var manager = Create(config);
        manager.Start("boot");
        await manager.WaitForStatusAsync(s => s.IsReadyForTraffic, Poll.Deadline()).WithTimeout();
        await journal.WaitForLastAsync("open");
        return manager;
    }

    private sealed class RecordingObserver : IModuleObserver
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public void Checked(string moduleName, string checker, bool up, TimeSpan duration) => Events.Enqueue($"check {checker} {(up ? "up" : "down")}");

        public void ScriptRan(string moduleName, string script, string outcome, TimeSpan duration) => Events.Enqueue($"script {script} {outcome}");

        public void Recovered(string moduleName, string action) => Events.Enqueue($"recovery {action}");
    }
}
