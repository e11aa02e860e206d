using Farm.Core.Config;
using Farm.Modules.Scripts;

namespace Farm.Modules.State;

/// <summary>The checkers: preconditions, waiting for them to come up, a checker going down, arming and results.</summary>
internal sealed partial class ModuleStateMachine
{
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
}
