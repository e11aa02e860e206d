using Farm.Core.Config;
using Farm.Modules.Scripts;

namespace Farm.Modules.State;

/// <summary>The plans: which steps a start, a stop, a stop-start and a release run, and how each step is named.</summary>
internal sealed partial class ModuleStateMachine
{
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
