using System.Collections.Immutable;
using Farm.Core.Config;
using Farm.Modules.Scripts;

namespace Farm.Modules.State;

/// <summary>
/// Every transition of one module on one node, decided in one place. Pure: <see cref="Handle"/> takes an event and
/// returns the I/O to perform (<see cref="ModuleCommand"/>); time comes from the injected clock only, so tests drive it
/// synchronously on virtual time.
/// </summary>
/// <remarks>
/// A transition is a plan: a queue of steps run one at a time. At most one script or gate call is outstanding; admin
/// requests that arrive meanwhile wait for it (a script never runs beyond its own limits, so they never wait long).
/// Invariants kept here:
/// <list type="bullet">
/// <item>traffic opens (<see cref="ModuleCommand.OpenTraffic"/>) only after start_both succeeded and every <c>always</c> checker reported up;</item>
/// <item>traffic closes, and its close is confirmed, before stop_both runs; a primary stops accepting and runs stop_prim first;</item>
/// <item>every start script that ran (even one that failed) gets its stop counterpart: prestart/poststop, start_both/stop_both, start_prim/stop_prim.</item>
/// </list>
/// </remarks>
internal sealed class ModuleStateMachine
{
    private readonly ModuleConfig config;
    private readonly string node;
    private readonly TimeProvider time;
    private readonly RecoveryWindow recovery;
    private string? lastRecovery;
    private readonly CheckerConfig[] beforeStart;
    private readonly CheckerConfig[] always;
    private readonly List<ModuleCommand> output = [];
    private readonly Queue<Step> plan = new();
    private readonly Dictionary<string, CheckResultEntry> results = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CheckResultEntry> display = new(StringComparer.Ordinal);

    private ModuleState state = ModuleState.Stop;
    private ModuleSubState subState = ModuleSubState.Ready;
    private string reason = "not started";
    private DateTimeOffset since;
    private string? stepName;

    private PlanKind kind = PlanKind.None;
    private string cause = "";
    private bool finalFailed;
    private Step? current;
    private bool waitingForIo;
    private ModuleEvent.Admin? pendingAdmin;

    // What runs: each flag is set when the start script is launched and cleared when its counterpart is launched.
    private bool prestartRan;
    private bool startBothRan;
    private bool primRan;
    private bool primary;
    private bool gateOpen;
    private bool wantPrimary;

    private CheckerWhen? armed;
    private long generation;
    private long timerGeneration;
    private bool graceExpired;

    public ModuleStateMachine(ModuleConfig config, string node, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(time);
        this.config = config;
        this.node = node;
        this.time = time;
        recovery = new RecoveryWindow(config.Recovery.MaxLoop, config.Recovery.LoopInterval);
        beforeStart = [.. config.Checkers.Where(c => c.When == CheckerWhen.BeforeStart)];
        always = [.. config.Checkers.Where(c => c.When == CheckerWhen.Always)];
        since = time.GetUtcNow();
    }

    private enum PlanKind
    {
        None,
        Start,
        Stop,
        StopStart,
        Restart,
        Wait,
        Primary,
        Unprimary,
    }

    private enum StepKind
    {
        Preconditions,
        Script,
        AwaitCheckers,
        OpenGate,
        CloseGate,
        UnsetPrimary,
        SetPrimary,
        Disarm,
        Finish,
    }

    /// <summary>The generation that checker reports must carry to count.</summary>
    public long CheckerGeneration => generation;

    /// <summary>
    /// The recovery the last <see cref="Handle"/> started (<c>restart</c>, <c>stopstart</c>, or <c>maxloop</c> when it
    /// stopped the module instead), once; null when it started none.
    /// </summary>
    public string? TakeRecovery()
    {
        string? taken = lastRecovery;
        lastRecovery = null;
        return taken;
    }

    /// <summary>Feeds one event; returns the I/O to perform, in order.</summary>
    public IReadOnlyList<ModuleCommand> Handle(ModuleEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        output.Clear();
        switch (e)
        {
            case ModuleEvent.Admin admin:
                if (admin.Action is AdminAction.Start or AdminAction.Restart)
                {
                    recovery.Reset(); // an admin start forgives earlier failures
                }

                pendingAdmin = admin;
                break;

            case ModuleEvent.ScriptCompleted done when waitingForIo && current is { Kind: StepKind.Script } s && s.Script == done.Script:
                waitingForIo = false;
                current = null;
                if (!done.Result.Succeeded)
                {
                    OnScriptFailed(done.Script, done.Result);
                }

                break;

            case ModuleEvent.CheckerReported report when report.Generation == generation && armed is not null:
                Record(report);
                if (current?.Kind == StepKind.Preconditions)
                {
                    EvaluatePreconditions();
                }
                else if (current?.Kind == StepKind.AwaitCheckers)
                {
                    EvaluateAwait();
                }

                break; // when settled, Pump -> EvaluateSettled acts on it

            case ModuleEvent.GateCompleted when waitingForIo && current?.Kind is StepKind.CloseGate or StepKind.UnsetPrimary:
                if (current!.Kind == StepKind.CloseGate)
                {
                    gateOpen = false;
                }
                else
                {
                    primary = false;
                }

                waitingForIo = false;
                current = null;
                break;

            case ModuleEvent.PrimaryRequested request when config.Mode == ModuleMode.Single:
                // Ownership is only meaningful while this node is in the view; a stale request from before a close is dropped.
                wantPrimary = request.Primary && gateOpen;
                break;

            case ModuleEvent.TimerFired timer when timer.Generation == timerGeneration && current is { Kind: StepKind.AwaitCheckers, Grace: true }:
                graceExpired = true;
                EvaluateAwait();
                break;

            default:
                break; // stale: a report of an older arming, a late timer, a completion nobody waits for
        }

        Pump();
        return [.. output];
    }

    /// <summary>The current status, as an immutable snapshot.</summary>
    public ModuleStatus Snapshot()
    {
        var checkers = config.Checkers
            .Select(c => display.TryGetValue(c.Name, out var r) ? new CheckerStatus(c.Name, r.Up, r.Detail, r.Since) : new CheckerStatus(c.Name, null, "", null))
            .ToImmutableArray();
        return new ModuleStatus(config.Name, node, state, subState, reason, since, stepName, recovery.Count(time.GetUtcNow()), primary, checkers);
    }

    private void Pump()
    {
        // Bounded: each pass either starts a step, replaces the plan or returns; a bug must not spin the event loop.
        for (int pass = 0; pass < 10_000; pass++)
        {
            if (waitingForIo)
            {
                return;
            }

            if (pendingAdmin is not null && TryApplyAdmin())
            {
                continue;
            }

            if (current is not null)
            {
                return; // a step that waits for checkers or a timer
            }

            if (plan.Count == 0)
            {
                if (kind != PlanKind.None)
                {
                    kind = PlanKind.None; // a plan just ended: look at pending admin requests again before settling
                    stepName = null;
                    continue;
                }

                if (EvaluateSettled())
                {
                    continue;
                }

                return;
            }

            current = plan.Dequeue();
            Execute(current);
        }

        throw new InvalidOperationException($"the state machine of module {config.Name} did not settle");
    }

    private bool TryApplyAdmin()
    {
        var admin = pendingAdmin!;
        bool settledStop = kind == PlanKind.None && state == ModuleState.Stop;
        switch (admin.Action)
        {
            case AdminAction.Stop:
                pendingAdmin = null;
                if (kind == PlanKind.Stop || settledStop)
                {
                    return false;
                }

                BeginStop(failed: false, admin.Reason, "stop");
                return true;

            case AdminAction.Start:
                if (kind == PlanKind.Stop)
                {
                    return false; // start once the stop is complete
                }

                pendingAdmin = null;
                if (!settledStop)
                {
                    return false; // already starting or running
                }

                BeginStart(admin.Reason, "start");
                return true;

            default:
                pendingAdmin = null;
                if (settledStop)
                {
                    BeginStart(admin.Reason, "restart");
                }
                else
                {
                    BeginStopStart(admin.Reason, "restart");
                }

                return true;
        }
    }

    private bool EvaluateSettled()
    {
        if (state != ModuleState.Up || subState != ModuleSubState.Ready)
        {
            return false;
        }

        foreach (var checker in always)
        {
            if (results.TryGetValue(checker.Name, out var r) && !r.Up)
            {
                OnCheckerDown(checker, $"checker {checker.Name} down: {r.Detail}");
                return true;
            }
        }

        if (config.Mode == ModuleMode.Single)
        {
            if (wantPrimary && !primRan)
            {
                Begin(PlanKind.Primary, "this node became the owner", [
                    Script(ScriptNames.StartPrim, ModuleState.Up, ModuleSubState.Transient, ModuleState.Up, ModuleState.Up, "primary"),
                    new Step(StepKind.SetPrimary, ModuleState.Up, ModuleSubState.Ready, ModuleState.Up, ModuleState.Up, "primary", ReadyReason: "primary: start_prim succeeded")]);
                return true;
            }

            if (!wantPrimary && (primary || primRan))
            {
                Begin(PlanKind.Unprimary, "another node became the owner", [
                    new Step(StepKind.UnsetPrimary, ModuleState.Up, ModuleSubState.Transient, ModuleState.Up, ModuleState.Up, "secondary"),
                    Script(ScriptNames.StopPrim, ModuleState.Up, ModuleSubState.Transient, ModuleState.Up, ModuleState.Up, "secondary"),
                    new Step(StepKind.OpenGate, ModuleState.Up, ModuleSubState.Ready, ModuleState.Up, ModuleState.Up, "secondary", ReadyReason: "secondary: stop_prim done")]);
                return true;
            }
        }

        return false;
    }

    private void Execute(Step step)
    {
        Show(step.Shown, step.ShownSub, cause, StepLabel(step));
        switch (step.Kind)
        {
            case StepKind.Preconditions:
                if (beforeStart.Length == 0)
                {
                    current = null;
                    return;
                }

                Arm(CheckerWhen.BeforeStart);
                EvaluatePreconditions();
                return;

            case StepKind.Script:
                RunScript(step);
                return;

            case StepKind.AwaitCheckers:
                if (always.Length == 0)
                {
                    current = null;
                    return;
                }

                if (armed != CheckerWhen.Always)
                {
                    Arm(CheckerWhen.Always);
                }

                graceExpired = false;
                if (step.Grace)
                {
                    // An application gets timeouts.start to pass its checkers; until then a failed check is not yet a failure.
                    output.Add(new ModuleCommand.StartTimer(config.Timeouts.Start, ++timerGeneration));
                }

                EvaluateAwait();
                return;

            case StepKind.OpenGate:
                if (!gateOpen)
                {
                    gateOpen = true;
                    output.Add(new ModuleCommand.OpenTraffic(step.ReadyReason!));
                }

                Show(ModuleState.Up, ModuleSubState.Ready, step.ReadyReason!, null);
                current = null;
                return;

            case StepKind.CloseGate:
                if (!gateOpen)
                {
                    current = null;
                    return;
                }

                wantPrimary = false; // leaving the view gives up ownership; the daemon asks again after a rejoin
                output.Add(new ModuleCommand.CloseTraffic(cause));
                waitingForIo = true;
                return;

            case StepKind.UnsetPrimary:
                if (!primary)
                {
                    current = null;
                    return;
                }

                output.Add(new ModuleCommand.SetPrimary(false));
                waitingForIo = true;
                return;

            case StepKind.SetPrimary:
                if (!wantPrimary)
                {
                    current = null; // ownership moved on while start_prim ran: do not accept; the unprimary plan runs stop_prim
                    return;
                }

                primary = true;
                output.Add(new ModuleCommand.SetPrimary(true));
                Show(ModuleState.Up, ModuleSubState.Ready, step.ReadyReason!, null);
                current = null;
                return;

            case StepKind.Disarm:
                Arm(null);
                current = null;
                return;

            default:
                Arm(null);
                Show(ModuleState.Stop, step.Failed ? ModuleSubState.NotReady : ModuleSubState.Ready, cause, null);
                current = null;
                return;
        }
    }

    private void RunScript(Step step)
    {
        string name = step.Script!;
        bool needed = name switch
        {
            ScriptNames.StopPrim => primRan,
            ScriptNames.StopBoth => startBothRan,
            ScriptNames.Poststop => prestartRan,
            _ => true,
        };
        if (!needed)
        {
            current = null;
            return;
        }

        switch (name)
        {
            case ScriptNames.Prestart: prestartRan = true; break;
            case ScriptNames.StartBoth: startBothRan = true; break;
            case ScriptNames.StartPrim: primRan = true; break;
            case ScriptNames.StopPrim: primRan = false; break;
            case ScriptNames.StopBoth: startBothRan = false; break;
            default: prestartRan = false; break;
        }

        output.Add(new ModuleCommand.RunScript(name, step.From, step.To, step.Action, cause));
        waitingForIo = true;
    }

    private void OnScriptFailed(string script, ScriptResult result)
    {
        string what = $"{script} failed: {result.Describe()}";
        if (kind == PlanKind.Stop && finalFailed)
        {
            cause = $"{cause}; then {what}"; // keep the first failure in front, finish the stop
            return;
        }

        BeginStop(failed: true, what, "failure");
    }

    private void EvaluatePreconditions()
    {
        foreach (var checker in beforeStart)
        {
            if (results.TryGetValue(checker.Name, out var r) && !r.Up && checker.Action == CheckerAction.Stop)
            {
                BeginStop(failed: true, $"precondition {checker.Name} down: {r.Detail} (action stop)", "failure");
                return;
            }
        }

        foreach (var checker in beforeStart)
        {
            if (!results.TryGetValue(checker.Name, out var r))
            {
                Show(ModuleState.Wait, ModuleSubState.Transient, cause, $"precondition {checker.Name}");
                return;
            }

            if (!r.Up)
            {
                Show(ModuleState.Wait, ModuleSubState.NotReady, $"waiting for precondition {checker.Name}: {r.Detail}", $"precondition {checker.Name}");
                return;
            }
        }

        Show(ModuleState.Wait, ModuleSubState.Transient, cause, "preconditions passed");
        Arm(null); // before_start checkers only guard the start
        current = null;
    }

    private void EvaluateAwait()
    {
        var step = current!;
        var notUp = always.Where(c => !results.TryGetValue(c.Name, out var r) || !r.Up).ToList();
        if (notUp.Count == 0)
        {
            current = null;
            return;
        }

        if (step.Grace && !graceExpired)
        {
            var down = notUp.FirstOrDefault(c => results.ContainsKey(c.Name));
            stepName = down is null ? $"checkers: waiting for {notUp[0].Name}" : $"checkers: {down.Name} down ({results[down.Name].Detail})";
            return;
        }

        foreach (var checker in notUp.Where(c => c.Action != CheckerAction.Wait))
        {
            if (results.TryGetValue(checker.Name, out var r))
            {
                string why = step.Grace
                    ? $"checker {checker.Name} not up {ConfigDuration.Format(config.Timeouts.Start)} after start: {r.Detail}"
                    : $"checker {checker.Name} down: {r.Detail}";
                OnCheckerDown(checker, why);
                return;
            }

            if (graceExpired)
            {
                OnCheckerDown(checker, $"checker {checker.Name} gave no result within {ConfigDuration.Format(config.Timeouts.Start)} after start");
                return;
            }
        }

        // Only 'wait' checkers are down: stay out of the farm until they pass.
        var waiting = notUp.FirstOrDefault(c => results.ContainsKey(c.Name));
        if (waiting is not null)
        {
            Show(ModuleState.Wait, ModuleSubState.NotReady, $"checker {waiting.Name} down: {results[waiting.Name].Detail}", "checkers");
        }
    }

    private void OnCheckerDown(CheckerConfig checker, string why)
    {
        switch (checker.Action)
        {
            case CheckerAction.Stop:
                BeginStop(failed: true, $"{why} (action stop)", "stop");
                return;

            case CheckerAction.Wait:
                Begin(PlanKind.Wait, why, [
                    .. Release(ModuleState.Wait, ModuleSubState.Transient, ModuleState.Wait, "wait"),
                    new Step(StepKind.AwaitCheckers, ModuleState.Wait, ModuleSubState.NotReady, state, ModuleState.Up, "wait"),
                    new Step(StepKind.OpenGate, ModuleState.Up, ModuleSubState.Ready, ModuleState.Wait, ModuleState.Up, "wait", ReadyReason: $"checker {checker.Name} up again")]);
                return;
        }

        var now = time.GetUtcNow();
        if (!recovery.TryRecord(now))
        {
            lastRecovery = "maxloop";
            BeginStop(
                failed: true,
                $"{why}; more than {recovery.MaxLoop} recoveries within {ConfigDuration.Format(recovery.LoopInterval)} (maxloop), stopped",
                "failure");
            return;
        }

        lastRecovery = checker.Action == CheckerAction.StopStart ? "stopstart" : "restart";
        if (checker.Action == CheckerAction.StopStart)
        {
            BeginStopStart(why, "stopstart");
            return;
        }

        // restart: the application restarts in place; the node leaves the view meanwhile but stays UP.
        var from = state;
        Begin(PlanKind.Restart, why, [
            .. Release(ModuleState.Up, ModuleSubState.Transient, ModuleState.Up, "restart"),
            new Step(StepKind.Disarm, ModuleState.Up, ModuleSubState.Transient, from, ModuleState.Up, "restart"),
            Script(ScriptNames.StopBoth, ModuleState.Up, ModuleSubState.Transient, from, ModuleState.Up, "restart"),
            Script(ScriptNames.StartBoth, ModuleState.Up, ModuleSubState.Transient, from, ModuleState.Up, "restart"),
            new Step(StepKind.AwaitCheckers, ModuleState.Up, ModuleSubState.Transient, from, ModuleState.Up, "restart", Grace: true),
            new Step(StepKind.OpenGate, ModuleState.Up, ModuleSubState.Ready, from, ModuleState.Up, "restart", ReadyReason: $"restarted after {why}")]);
    }

    private void BeginStart(string why, string action) =>
        Begin(PlanKind.Start, why, StartSteps(state, action, action == "start" ? "started" : $"started ({action})"));

    private void BeginStop(bool failed, string why, string action)
    {
        var from = state;
        Begin(PlanKind.Stop, why, [
            .. StopSteps(from, action),
            new Step(StepKind.Finish, ModuleState.Stop, failed ? ModuleSubState.NotReady : ModuleSubState.Ready, from, ModuleState.Stop, action, Failed: failed)]);
        finalFailed = failed;
    }

    private void BeginStopStart(string why, string action) =>
        Begin(PlanKind.StopStart, why, [.. StopSteps(state, action), .. StartSteps(ModuleState.Stop, action, $"restarted after {why}")]);

    private void Begin(PlanKind newKind, string why, IEnumerable<Step> steps)
    {
        plan.Clear();
        foreach (var step in steps)
        {
            plan.Enqueue(step);
        }

        kind = newKind;
        cause = why;
        finalFailed = false;
        current = null;
        timerGeneration++; // a grace timer of the replaced plan must not fire into the new one
    }

    private static IEnumerable<Step> StartSteps(ModuleState from, string action, string readyReason) =>
    [
        new Step(StepKind.Preconditions, ModuleState.Wait, ModuleSubState.Transient, from, ModuleState.Up, action),
        Script(ScriptNames.Prestart, ModuleState.Wait, ModuleSubState.Transient, from, ModuleState.Up, action),
        Script(ScriptNames.StartBoth, ModuleState.Wait, ModuleSubState.Transient, from, ModuleState.Up, action),
        new Step(StepKind.AwaitCheckers, ModuleState.Wait, ModuleSubState.Transient, from, ModuleState.Up, action, Grace: true),
        new Step(StepKind.OpenGate, ModuleState.Up, ModuleSubState.Ready, from, ModuleState.Up, action, ReadyReason: readyReason),
    ];

    private IEnumerable<Step> StopSteps(ModuleState from, string action) =>
    [
        .. Release(ModuleState.Stop, ModuleSubState.Transient, ModuleState.Stop, action, from),
        new Step(StepKind.Disarm, ModuleState.Stop, ModuleSubState.Transient, from, ModuleState.Stop, action),
        Script(ScriptNames.StopBoth, ModuleState.Stop, ModuleSubState.Transient, from, ModuleState.Stop, action),
        Script(ScriptNames.Poststop, ModuleState.Stop, ModuleSubState.Transient, from, ModuleState.Stop, action),
    ];

    /// <summary>Gives the traffic up: a primary stops accepting and runs stop_prim before the node leaves the view, so a peer's start_prim follows it.</summary>
    private IEnumerable<Step> Release(ModuleState shown, ModuleSubState shownSub, ModuleState to, string action, ModuleState? from = null)
    {
        var f = from ?? state;
        return
        [
            new Step(StepKind.UnsetPrimary, shown, shownSub, f, to, action),
            Script(ScriptNames.StopPrim, shown, shownSub, f, to, action),
            new Step(StepKind.CloseGate, shown, shownSub, f, to, action),
        ];
    }

    private static Step Script(string name, ModuleState shown, ModuleSubState shownSub, ModuleState from, ModuleState to, string action) =>
        new(StepKind.Script, shown, shownSub, from, to, action, Script: name);

    private static string StepLabel(Step step) => step.Kind switch
    {
        StepKind.Script => step.Script!,
        StepKind.Preconditions => "preconditions",
        StepKind.AwaitCheckers => "checkers",
        StepKind.CloseGate => "closing traffic",
        StepKind.UnsetPrimary => "releasing primary",
        _ => step.Kind.ToString().ToLowerInvariant(),
    };

    private void Arm(CheckerWhen? set)
    {
        if (armed is null && set is null)
        {
            return;
        }

        armed = set;
        generation++;
        results.Clear(); // only results of this arming count
        output.Add(new ModuleCommand.ArmCheckers(set, generation));
    }

    private void Record(ModuleEvent.CheckerReported report)
    {
        var now = time.GetUtcNow();
        var entry = display.TryGetValue(report.Checker, out var old) && old.Up == report.Up
            ? old with { Detail = report.Detail }
            : new CheckResultEntry(report.Up, report.Detail, now);
        display[report.Checker] = entry;
        results[report.Checker] = entry;
    }

    private void Show(ModuleState newState, ModuleSubState newSub, string newReason, string? newStep)
    {
        if (newState != state || newSub != subState)
        {
            since = time.GetUtcNow();
        }

        state = newState;
        subState = newSub;
        reason = newReason;
        stepName = newStep;
    }

    private sealed record CheckResultEntry(bool Up, string Detail, DateTimeOffset Since);

    /// <param name="Kind">What the step does.</param>
    /// <param name="Shown">State shown while it runs.</param>
    /// <param name="ShownSub">Sub-state shown while it runs.</param>
    /// <param name="From">FARM_STATE for its script.</param>
    /// <param name="To">FARM_NEXT_STATE for its script.</param>
    /// <param name="Action">FARM_ACTION for its script.</param>
    /// <param name="Script">Script name (Script steps).</param>
    /// <param name="Grace">AwaitCheckers: failed checks are tolerated for timeouts.start.</param>
    /// <param name="Failed">Finish: end in STOP/NotReady.</param>
    /// <param name="ReadyReason">OpenGate/SetPrimary: the reason shown in UP/Ready.</param>
    private sealed record Step(
        StepKind Kind,
        ModuleState Shown,
        ModuleSubState ShownSub,
        ModuleState From,
        ModuleState To,
        string Action,
        string? Script = null,
        bool Grace = false,
        bool Failed = false,
        string? ReadyReason = null);
}
