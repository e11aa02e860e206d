namespace Farm.Modules.Tests.TestSupport;

/// <summary>
/// Drives a <see cref="ModuleStateMachine"/> synchronously on virtual time, playing the manager: it records every command
/// in a journal and lets the test complete scripts, confirm the gate, report checkers and fire timers.
/// </summary>
internal sealed class MachineHarness
{
    public MachineHarness(ModuleConfig config)
    {
        Config = config;
        Machine = new ModuleStateMachine(config, "node1", Time);
    }

    public ManualTimeProvider Time { get; } = new();

    public ModuleConfig Config { get; }

    public ModuleStateMachine Machine { get; }

    /// <summary>Every command in order, in short form: "prestart", "open", "close", "primary", "secondary", "arm:Always", "arm:none", "timer".</summary>
    public List<string> Journal { get; } = [];

    public List<ModuleCommand.RunScript> Scripts { get; } = [];

    public string? RunningScript { get; private set; }

    public bool GatePending { get; private set; }

    public long TimerGeneration { get; private set; }

    public ModuleStatus Status => Machine.Snapshot();

    public void Send(ModuleEvent e)
    {
        foreach (var command in Machine.Handle(e))
        {
            switch (command)
            {
                case ModuleCommand.RunScript run:
                    Assert.IsNull(RunningScript, $"{run.Script} requested while {RunningScript} runs");
                    RunningScript = run.Script;
                    Scripts.Add(run);
                    Journal.Add(run.Script);
                    break;
                case ModuleCommand.ArmCheckers arm:
                    Journal.Add($"arm:{arm.Set?.ToString() ?? "none"}");
                    break;
                case ModuleCommand.OpenTraffic:
                    Journal.Add("open");
                    break;
                case ModuleCommand.CloseTraffic:
                    GatePending = true;
                    Journal.Add("close");
                    break;
                case ModuleCommand.SetPrimary primary:
                    GatePending |= !primary.Primary;
                    Journal.Add(primary.Primary ? "primary" : "secondary");
                    break;
                case ModuleCommand.StartTimer timer:
                    TimerGeneration = timer.Generation;
                    Journal.Add("timer");
                    break;
            }
        }
    }

    public void Start(string reason = "admin start") => Send(new ModuleEvent.Admin(AdminAction.Start, reason));

    public void Stop(string reason = "admin stop") => Send(new ModuleEvent.Admin(AdminAction.Stop, reason));

    public void Restart(string reason = "admin restart") => Send(new ModuleEvent.Admin(AdminAction.Restart, reason));

    /// <summary>Mode single: the daemon says this node became (or stopped being) the owner.</summary>
    public void RequestPrimary(bool primary) => Send(new ModuleEvent.PrimaryRequested(primary));

    public void Complete(string script, ScriptResult? result = null)
    {
        Assert.AreEqual(script, RunningScript, "the running script");
        RunningScript = null;
        Send(new ModuleEvent.ScriptCompleted(script, result ?? ScriptResult.Ok()));
    }

    public void Fail(string script, int exitCode = 1) => Complete(script, ScriptResult.Fail(exitCode));

    /// <summary>Completes the given scripts in order, each successfully, confirming gate calls on the way.</summary>
    public void Run(params string[] scripts)
    {
        foreach (string script in scripts)
        {
            if (GatePending)
            {
                ConfirmGate();
            }

            Complete(script);
        }

        if (GatePending)
        {
            ConfirmGate();
        }
    }

    public void ConfirmGate()
    {
        Assert.IsTrue(GatePending, "no gate call is pending");
        GatePending = false;
        Send(new ModuleEvent.GateCompleted());
    }

    public void Report(string checker, bool up, string detail = "connection refused") =>
        Send(new ModuleEvent.CheckerReported(checker, Machine.CheckerGeneration, up, up ? "ok" : detail));

    public void FireTimer()
    {
        Time.Advance(Config.Timeouts.Start);
        Send(new ModuleEvent.TimerFired(TimerGeneration));
    }

    /// <summary>Start, prestart, start_both, every named checker up: ends in UP/Ready.</summary>
    public void StartToUp(params string[] checkers)
    {
        Start();
        Run(ScriptNames.Prestart, ScriptNames.StartBoth);
        foreach (string checker in checkers)
        {
            Report(checker, up: true);
        }

        AssertState(ModuleState.Up, ModuleSubState.Ready);
        Journal.Clear();
    }

    /// <summary><see cref="StartToUp"/>, then made primary with start_prim completed: ends in UP/Ready, primary, with an empty journal.</summary>
    public void StartToPrimary(params string[] checkers)
    {
        StartToUp(checkers);
        RequestPrimary(true);
        Run(ScriptNames.StartPrim);
        Journal.Clear();
    }

    public void AssertState(ModuleState state, ModuleSubState subState, string? reasonContains = null)
    {
        var status = Status;
        Assert.AreEqual((state, subState), (status.State, status.SubState), status.ToString());
        if (reasonContains is not null)
        {
            Assert.Contains(reasonContains, status.Reason, status.ToString());
        }
    }
}
