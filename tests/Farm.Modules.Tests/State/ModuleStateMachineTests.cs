using static Farm.Modules.Tests.TestSupport.TestModules;

namespace Farm.Modules.Tests.State;

[TestClass]
public sealed class ModuleStateMachineTests
{
    private const string Web = "web-tcp";

    [TestMethod]
    public void New_IsStopReady()
    {
        var h = new MachineHarness(Module());

        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "not started");
        Assert.IsEmpty(h.Journal);
    }

    [TestMethod]
    public void Start_WithoutCheckers_RunsPrestartAndStartBothThenOpens()
    {
        var h = new MachineHarness(Module());

        h.Start();
        h.AssertState(ModuleState.Wait, ModuleSubState.Transient, "admin start");
        Assert.AreEqual("prestart", h.Status.Step);
        h.Run("prestart", "start_both");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "started");
        CollectionAssert.AreEqual(new[] { "prestart", "start_both", "open" }, h.Journal);
    }

    [TestMethod]
    public void Start_OpensOnlyAfterEveryCheckerIsUp()
    {
        var h = new MachineHarness(Module(checkers: [Tcp("a"), Tcp("b")]));

        h.Start();
        h.Run("prestart", "start_both");
        CollectionAssert.AreEqual(new[] { "prestart", "start_both", "arm:Always", "timer" }, h.Journal);
        h.Report("a", up: true);
        h.Report("b", up: false);
        h.AssertState(ModuleState.Wait, ModuleSubState.Transient);
        Assert.DoesNotContain("open", h.Journal);

        h.Report("b", up: true);

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        Assert.AreEqual("open", h.Journal[^1]);
    }

    [TestMethod]
    public void Start_CheckerNotUpWithinStartTimeout_AppliesItsAction()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Stop)));
        h.Start();
        h.Run("prestart", "start_both");
        h.Report(Web, up: false);

        h.FireTimer();

        h.Run("stop_both", "poststop");
        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "checker web-tcp not up 1m after start: connection refused");
        Assert.DoesNotContain("open", h.Journal);
    }

    [TestMethod]
    public void Start_WaitCheckerNotUpAfterStartTimeout_WaitsWithoutScripts()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Wait)));
        h.Start();
        h.Run("prestart", "start_both");
        h.Report(Web, up: false);

        h.FireTimer();

        h.AssertState(ModuleState.Wait, ModuleSubState.NotReady, "checker web-tcp down: connection refused");
        Assert.IsNull(h.RunningScript);
        h.Report(Web, up: true);
        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
    }

    [TestMethod]
    public void Start_PreconditionDown_WaitsThenStartsWhenItPasses()
    {
        var h = new MachineHarness(Module(checkers: [Tcp("gw", CheckerAction.Wait, CheckerWhen.BeforeStart), Tcp(Web)]));

        h.Start();
        CollectionAssert.AreEqual(new[] { "arm:BeforeStart" }, h.Journal);
        h.Report("gw", up: false, "unreachable");
        h.AssertState(ModuleState.Wait, ModuleSubState.NotReady, "waiting for precondition gw: unreachable");
        Assert.IsNull(h.RunningScript);

        h.Report("gw", up: true);
        h.Run("prestart", "start_both");
        h.Report(Web, up: true);

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        CollectionAssert.AreEqual(
            new[] { "arm:BeforeStart", "arm:none", "prestart", "start_both", "arm:Always", "timer", "open" }, h.Journal);
    }

    [TestMethod]
    public void Start_PreconditionWithActionStop_StopsWithoutRunningScripts()
    {
        var h = new MachineHarness(Module(checkers: Tcp("gw", CheckerAction.Stop, CheckerWhen.BeforeStart)));

        h.Start();
        h.Report("gw", up: false, "unreachable");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "precondition gw down: unreachable (action stop)");
        Assert.IsEmpty(h.Scripts);
    }

    [TestMethod]
    public void Start_BeforeStartCheckerGoingDownLater_IsNotWatched()
    {
        var h = new MachineHarness(Module(checkers: Tcp("gw", CheckerAction.Stop, CheckerWhen.BeforeStart)));
        h.Start();
        h.Report("gw", up: true);
        h.Run("prestart", "start_both");
        long generation = h.Machine.CheckerGeneration;

        h.Send(new ModuleEvent.CheckerReported("gw", generation - 1, false, "unreachable"));

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
    }

    [TestMethod]
    public void Start_PrestartFails_RunsPoststopAndStopsNotReady()
    {
        var h = new MachineHarness(Module());
        h.Start();

        h.Fail("prestart", 4);
        h.Run("poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "prestart failed: exit code 4");
        CollectionAssert.AreEqual(new[] { "prestart", "poststop" }, h.Journal);
    }

    [TestMethod]
    public void Start_StartBothTimesOut_RunsTheStopCounterpartsAndStopsNotReady()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)));
        h.Start();
        h.Run("prestart");

        h.Complete("start_both", new ScriptResult(ScriptOutcome.TimedOut, null, "timed out after 60s; killed"));
        h.Run("stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "start_both failed: timed out after 60s; killed");
        Assert.DoesNotContain("open", h.Journal);
        Assert.DoesNotContain("arm:Always", h.Journal);
    }

    [TestMethod]
    public void Start_WhileUp_IsIgnored()
    {
        var h = new MachineHarness(Module());
        h.StartToUp();

        h.Start();

        Assert.IsEmpty(h.Journal);
        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
    }

    [TestMethod]
    public void Stop_FromUp_ClosesTrafficAndWaitsForItBeforeStopBoth()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)));
        h.StartToUp(Web);

        h.Stop();

        h.AssertState(ModuleState.Stop, ModuleSubState.Transient, "admin stop");
        CollectionAssert.AreEqual(new[] { "close" }, h.Journal);
        Assert.IsNull(h.RunningScript, "stop_both must wait for the gate");
        h.ConfirmGate();
        CollectionAssert.AreEqual(new[] { "close", "arm:none", "stop_both" }, h.Journal);
        h.Run("stop_both", "poststop");
        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "admin stop");
    }

    [TestMethod]
    public void Stop_WhileAScriptRuns_StopsOnceItEnds()
    {
        var h = new MachineHarness(Module());
        h.Start();
        h.Run("prestart");

        h.Stop();
        Assert.AreEqual("start_both", h.RunningScript);
        h.Run("start_both", "stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "admin stop");
        Assert.DoesNotContain("open", h.Journal);
    }

    [TestMethod]
    public void Stop_WhileWaitingForAPrecondition_StopsAtOnce()
    {
        var h = new MachineHarness(Module(checkers: Tcp("gw", CheckerAction.Wait, CheckerWhen.BeforeStart)));
        h.Start();
        h.Report("gw", up: false);

        h.Stop();

        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "admin stop");
        Assert.IsEmpty(h.Scripts);
    }

    [TestMethod]
    public void Stop_StopBothFails_StillRunsPoststopAndEndsNotReady()
    {
        var h = new MachineHarness(Module());
        h.StartToUp();
        h.Stop();
        h.ConfirmGate();

        h.Fail("stop_both", 2);
        h.Run("poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "stop_both failed: exit code 2");
    }

    [TestMethod]
    public void Stop_WhenStopped_IsIgnored()
    {
        var h = new MachineHarness(Module());

        h.Stop();

        Assert.IsEmpty(h.Journal);
        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "not started");
    }

    [TestMethod]
    public void Start_WhileStopping_StartsAfterTheStopCompletes()
    {
        var h = new MachineHarness(Module());
        h.StartToUp();
        h.Stop();
        h.ConfirmGate();

        h.Start();
        h.Run("stop_both", "poststop", "prestart", "start_both");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        CollectionAssert.AreEqual(new[] { "close", "stop_both", "poststop", "prestart", "start_both", "open" }, h.Journal);
    }

    [TestMethod]
    public void AdminRestart_FromUp_RunsAFullStopThenAFullStart()
    {
        var h = new MachineHarness(Module());
        h.StartToUp();

        h.Restart();
        h.Run("stop_both", "poststop", "prestart", "start_both");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        CollectionAssert.AreEqual(new[] { "close", "stop_both", "poststop", "prestart", "start_both", "open" }, h.Journal.Where(j => !j.StartsWith("arm")).ToList());
        Assert.AreEqual("restart", h.Scripts[^1].Action);
    }

    [TestMethod]
    public void CheckerRestart_RestartsInPlaceWithoutLeavingUp()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Restart)));
        h.StartToUp(Web);

        h.Report(Web, up: false);
        h.AssertState(ModuleState.Up, ModuleSubState.Transient, "checker web-tcp down: connection refused");
        h.Run("stop_both", "start_both");
        h.Report(Web, up: true);

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "restarted after checker web-tcp down: connection refused");
        CollectionAssert.AreEqual(new[] { "close", "arm:none", "stop_both", "start_both", "arm:Always", "timer", "open" }, h.Journal);
        Assert.AreEqual(1, h.Status.RecoveryCount);
        Assert.IsTrue(h.Scripts.Skip(2).All(s => s.Action == "restart" && s.From == ModuleState.Up && s.To == ModuleState.Up));
    }

    [TestMethod]
    public void CheckerRestart_StartBothFailsDuringRecovery_StopsNotReady()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)));
        h.StartToUp(Web);
        h.Report(Web, up: false);
        h.Run("stop_both");

        h.Fail("start_both");
        h.Run("stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "start_both failed: exit code 1");
    }

    [TestMethod]
    public void CheckerStopStart_LeavesTheFarmStopsFullyAndStartsAgain()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.StopStart)));
        h.StartToUp(Web);

        h.Report(Web, up: false);
        h.AssertState(ModuleState.Stop, ModuleSubState.Transient, "checker web-tcp down");
        h.Run("stop_both", "poststop");
        h.AssertState(ModuleState.Wait, ModuleSubState.Transient);
        h.Run("prestart", "start_both");
        h.Report(Web, up: true);

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "restarted after checker web-tcp down");
        CollectionAssert.AreEqual(new[] { "close", "stop_both", "poststop", "prestart", "start_both", "open" }, h.Journal.Where(j => !j.StartsWith("arm") && j != "timer").ToList());
        var stopBoth = h.Scripts.Single(s => s.Script == "stop_both");
        var startBoth = h.Scripts.Last(s => s.Script == "start_both");
        Assert.AreEqual((ModuleState.Up, ModuleState.Stop, "stopstart"), (stopBoth.From, stopBoth.To, stopBoth.Action));
        Assert.AreEqual((ModuleState.Stop, ModuleState.Up, "stopstart"), (startBoth.From, startBoth.To, startBoth.Action));
        Assert.AreEqual(1, h.Status.RecoveryCount);
    }

    [TestMethod]
    public void CheckerStop_StopsUntilAnAdminStartsIt()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Stop)));
        h.StartToUp(Web);

        h.Report(Web, up: false);
        h.Run("stop_both", "poststop");
        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "checker web-tcp down: connection refused (action stop)");

        h.Start();
        h.Run("prestart", "start_both");
        h.Report(Web, up: true);
        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
    }

    [TestMethod]
    public void CheckerWait_LeavesTheFarmAndRejoinsByItselfWithoutScripts()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Wait)));
        h.StartToUp(Web);

        h.Report(Web, up: false);
        h.ConfirmGate();
        h.AssertState(ModuleState.Wait, ModuleSubState.NotReady, "checker web-tcp down: connection refused");
        h.Report(Web, up: true);

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "checker web-tcp up again");
        CollectionAssert.AreEqual(new[] { "close", "open" }, h.Journal);
        Assert.AreEqual(0, h.Status.RecoveryCount, "wait is not a recovery");
    }

    [TestMethod]
    public void CheckerWait_Flapping_ClosesAndOpensEachTimeWithoutEscalating()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Wait)));
        h.StartToUp(Web);

        for (int i = 0; i < 10; i++)
        {
            h.Report(Web, up: false);
            h.Report(Web, up: false); // repeated verdicts change nothing
            h.ConfirmGate();
            h.Report(Web, up: true);
            h.Report(Web, up: true);
        }

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        Assert.AreEqual(20, h.Journal.Count);
        Assert.IsEmpty(h.Scripts.Where(s => s.Script != "prestart" && s.Script != "start_both"));
    }

    [TestMethod]
    public void CheckerWait_RestartCheckerFailsWhileWaiting_Restarts()
    {
        var h = new MachineHarness(Module(checkers: [Tcp("db", CheckerAction.Wait), Tcp(Web, CheckerAction.Restart)]));
        h.StartToUp("db", Web);
        h.Report("db", up: false);
        h.ConfirmGate();

        h.Report(Web, up: false);
        h.Run("stop_both", "start_both");
        h.Report("db", up: true);
        h.Report(Web, up: true);

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "restarted after checker web-tcp down");
    }

    [TestMethod]
    public void Recovery_MoreThanMaxLoopWithinLoopInterval_EscalatesToStop()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Restart)));
        h.StartToUp(Web);

        for (int i = 1; i <= 3; i++)
        {
            h.Time.Advance(TimeSpan.FromHours(1));
            h.Report(Web, up: false);
            h.Run("stop_both", "start_both");
            h.Report(Web, up: true);
            h.AssertState(ModuleState.Up, ModuleSubState.Ready);
            Assert.AreEqual(i, h.Status.RecoveryCount);
        }

        h.Report(Web, up: false);
        h.Run("stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "more than 3 recoveries within 24h (maxloop), stopped");
    }

    [TestMethod]
    public void TakeRecovery_RestartsThenMaxLoop_NamesEachOnceAndNothingOtherwise()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Restart)) with { Recovery = new RecoveryOptions { MaxLoop = 1 } });
        h.StartToUp(Web);
        Assert.IsNull(h.Machine.TakeRecovery(), "a start is no recovery");

        h.Report(Web, up: false);
        Assert.AreEqual("restart", h.Machine.TakeRecovery());
        Assert.IsNull(h.Machine.TakeRecovery(), "taken once");
        h.Run("stop_both", "start_both");
        h.Report(Web, up: true);
        Assert.IsNull(h.Machine.TakeRecovery());

        h.Report(Web, up: false);
        Assert.AreEqual("maxloop", h.Machine.TakeRecovery());
    }

    [TestMethod]
    public void TakeRecovery_StopStartChecker_NamesStopStart()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.StopStart)));
        h.StartToUp(Web);

        h.Report(Web, up: false);

        Assert.AreEqual("stopstart", h.Machine.TakeRecovery());
    }

    [TestMethod]
    public void Recovery_AdminStartResetsTheCount()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.StopStart)) with { Recovery = new RecoveryOptions { MaxLoop = 1 } });
        h.StartToUp(Web);
        h.Report(Web, up: false);
        h.Run("stop_both", "poststop", "prestart", "start_both");
        h.Report(Web, up: true);
        h.Report(Web, up: false);
        h.Run("stop_both", "poststop");
        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "maxloop");

        h.Start();

        Assert.AreEqual(0, h.Status.RecoveryCount);
        h.Run("prestart", "start_both");
        h.Report(Web, up: true);
        h.Report(Web, up: false);
        h.AssertState(ModuleState.Stop, ModuleSubState.Transient, "checker web-tcp down");
        Assert.AreEqual(1, h.Status.RecoveryCount, "the recovery after the reset is allowed again");
    }

    [TestMethod]
    public void Recovery_FailuresFurtherApartThanLoopInterval_NeverEscalate()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)) with { Recovery = new RecoveryOptions { MaxLoop = 2, LoopInterval = TimeSpan.FromHours(1) } });
        h.StartToUp(Web);

        for (int i = 0; i < 6; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(31));
            h.Report(Web, up: false);
            h.Run("stop_both", "start_both");
            h.Report(Web, up: true);
        }

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        Assert.AreEqual(2, h.Status.RecoveryCount);
    }

    [TestMethod]
    public void CheckerReports_OfAnEarlierArming_AreIgnored()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)));
        h.StartToUp(Web);
        long old = h.Machine.CheckerGeneration;
        h.Report(Web, up: false);
        h.Run("stop_both");

        h.Send(new ModuleEvent.CheckerReported(Web, old, false, "late verdict"));
        h.Run("start_both");
        h.Send(new ModuleEvent.CheckerReported(Web, old, true, "late verdict"));

        h.AssertState(ModuleState.Up, ModuleSubState.Transient);
        Assert.DoesNotContain("open", h.Journal);
    }

    [TestMethod]
    public void Timer_OfAReplacedPlan_IsIgnored()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)));
        h.Start();
        h.Run("prestart", "start_both");
        long stale = h.TimerGeneration;
        h.Stop();
        h.Run("stop_both", "poststop");
        h.Start();
        h.Run("prestart", "start_both");

        h.Send(new ModuleEvent.TimerFired(stale));

        h.AssertState(ModuleState.Wait, ModuleSubState.Transient);
    }

    [TestMethod]
    public void Status_ShowsTheLastCheckerResults()
    {
        var h = new MachineHarness(Module(checkers: [Tcp("a"), Tcp("b")]));
        h.StartToUp("a", "b");

        var checkers = h.Status.Checkers;

        Assert.HasCount(2, checkers);
        Assert.IsTrue(checkers.All(c => c.Up == true && c.Detail == "ok" && c.Since is not null));
    }

    [TestMethod]
    public void Single_BecomePrimary_RunsStartPrimBeforeAcceptingTraffic()
    {
        var h = new MachineHarness(Module(ModuleMode.Single));
        h.StartToUp();

        h.RequestPrimary(true);
        h.AssertState(ModuleState.Up, ModuleSubState.Transient);
        Assert.IsFalse(h.Status.IsPrimary);
        h.Run("start_prim");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "primary");
        Assert.IsTrue(h.Status.IsPrimary);
        CollectionAssert.AreEqual(new[] { "start_prim", "primary" }, h.Journal);
    }

    [TestMethod]
    public void Single_StopBeingPrimary_StopsAcceptingThenRunsStopPrimAndStaysUp()
    {
        var h = new MachineHarness(Module(ModuleMode.Single));
        h.StartToPrimary();

        h.RequestPrimary(false);
        Assert.IsNull(h.RunningScript, "stop_prim waits until the node accepts no more traffic");
        h.Run("stop_prim");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "secondary");
        Assert.IsFalse(h.Status.IsPrimary);
        CollectionAssert.AreEqual(new[] { "secondary", "stop_prim" }, h.Journal);
    }

    [TestMethod]
    public void Single_StopWhilePrimary_RunsStopPrimBeforeLeavingTheView()
    {
        var h = new MachineHarness(Module(ModuleMode.Single));
        h.StartToPrimary();

        h.Stop();
        h.Run("stop_prim", "stop_both", "poststop");

        CollectionAssert.AreEqual(new[] { "secondary", "stop_prim", "close", "stop_both", "poststop" }, h.Journal);
        h.AssertState(ModuleState.Stop, ModuleSubState.Ready);
    }

    [TestMethod]
    public void Single_StartPrimFails_UndoesEverythingAndStopsNotReady()
    {
        var h = new MachineHarness(Module(ModuleMode.Single));
        h.StartToUp();
        h.RequestPrimary(true);

        h.Fail("start_prim", 5);
        h.Run("stop_prim", "stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "start_prim failed: exit code 5");
        Assert.DoesNotContain("primary", h.Journal);
        CollectionAssert.AreEqual(new[] { "start_prim", "stop_prim", "close", "stop_both", "poststop" }, h.Journal);
    }

    [TestMethod]
    public void Single_CheckerRestartWhilePrimary_GivesUpPrimaryUntilAskedAgain()
    {
        var h = new MachineHarness(Module(ModuleMode.Single, Tcp(Web)));
        h.StartToPrimary(Web);

        h.Report(Web, up: false);
        h.Run("stop_prim", "stop_both", "start_both");
        h.Report(Web, up: true);

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        Assert.IsFalse(h.Status.IsPrimary);
        CollectionAssert.AreEqual(new[] { "secondary", "stop_prim", "close", "stop_both", "start_both", "open" }, h.Journal.Where(j => !j.StartsWith("arm") && j != "timer").ToList());

        h.RequestPrimary(true);
        h.Run("start_prim");
        Assert.IsTrue(h.Status.IsPrimary);
    }

    [TestMethod]
    public void Single_BecomePrimaryBeforeTheNodeIsUp_IsIgnored()
    {
        var h = new MachineHarness(Module(ModuleMode.Single));
        h.Start();
        h.RequestPrimary(true);
        h.Run("prestart", "start_both");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready);
        Assert.DoesNotContain("start_prim", h.Journal);
    }

    [TestMethod]
    public void Balance_BecomePrimary_IsIgnored()
    {
        var h = new MachineHarness(Module());
        h.StartToUp();

        h.RequestPrimary(true);

        Assert.IsEmpty(h.Journal);
    }

    [TestMethod]
    public void Scripts_GetTheTransition()
    {
        var h = new MachineHarness(Module());
        h.StartToUp();
        h.Stop("maintenance");
        h.ConfirmGate();

        var stop = h.Scripts[^1];

        Assert.AreEqual(new ModuleCommand.RunScript("stop_both", ModuleState.Up, ModuleState.Stop, "stop", "maintenance"), stop);
    }

    [TestMethod]
    public void Since_ChangesWithTheStateOnly()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)));
        h.Start();
        var since = h.Status.Since;
        h.Time.Advance(TimeSpan.FromSeconds(5));
        h.Run("prestart");
        Assert.AreEqual(since, h.Status.Since, "still WAIT/Transient");

        h.Time.Advance(TimeSpan.FromSeconds(5));
        h.Run("start_both");
        h.Report(Web, up: true);

        Assert.AreEqual(h.Time.GetUtcNow(), h.Status.Since);
    }

    [TestMethod]
    public void AdminRestart_WhenStopped_JustStarts()
    {
        var h = new MachineHarness(Module());

        h.Restart();
        h.Run("prestart", "start_both");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "started (restart)");
        CollectionAssert.AreEqual(new[] { "prestart", "start_both", "open" }, h.Journal);
    }

    [TestMethod]
    public void Stop_WhileWaitingForAWaitChecker_StopsTheRunningApplication()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web, CheckerAction.Wait)));
        h.StartToUp(Web);
        h.Report(Web, up: false);
        h.ConfirmGate();

        h.Stop();
        h.Run("stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "admin stop");
        CollectionAssert.AreEqual(new[] { "close", "arm:none", "stop_both", "poststop" }, h.Journal);
        Assert.AreEqual(ModuleState.Wait, h.Scripts[^2].From);
    }

    [TestMethod]
    public void Stop_DuringAnInPlaceRestart_StopsAfterTheRunningScript()
    {
        var h = new MachineHarness(Module(checkers: Tcp(Web)));
        h.StartToUp(Web);
        h.Report(Web, up: false);
        h.ConfirmGate();

        h.Stop();
        h.Run("stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "admin stop");
        Assert.DoesNotContain("start_both", h.Journal);
    }

    [TestMethod]
    public void Stop_DuringAFailureStop_KeepsTheFailure()
    {
        var h = new MachineHarness(Module());
        h.Start();
        h.Run("prestart");
        h.Fail("start_both");

        h.Stop();
        h.Run("stop_both", "poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.NotReady, "start_both failed");
    }

    [TestMethod]
    public void ForcedStop_CountsAsAStop()
    {
        var h = new MachineHarness(Module());
        h.StartToUp();
        h.Stop();
        h.ConfirmGate();

        h.Complete("stop_both", new ScriptResult(ScriptOutcome.Forced, 0, "timed out after 1m; the forced run succeeded"));
        h.Run("poststop");

        h.AssertState(ModuleState.Stop, ModuleSubState.Ready, "admin stop");
    }

    [TestMethod]
    public void Single_OwnershipMovesWhileStartPrimRuns_NeverAcceptsAndRunsStopPrim()
    {
        var h = new MachineHarness(Module(ModuleMode.Single));
        h.StartToUp();
        h.RequestPrimary(true);

        h.RequestPrimary(false);
        h.Run("start_prim", "stop_prim");

        h.AssertState(ModuleState.Up, ModuleSubState.Ready, "secondary");
        Assert.IsFalse(h.Status.IsPrimary);
        CollectionAssert.AreEqual(new[] { "start_prim", "stop_prim" }, h.Journal);
    }
}
