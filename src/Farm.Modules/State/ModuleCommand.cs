using Farm.Core.Config;

namespace Farm.Modules.State;

/// <summary>An output of <see cref="ModuleStateMachine"/>: I/O the manager performs, reporting back with a <see cref="ModuleEvent"/>.</summary>
internal abstract record ModuleCommand
{
    /// <summary>Run a script of <c>bin/</c>; answer with <see cref="ModuleEvent.ScriptCompleted"/>.</summary>
    /// <param name="Script">Script name.</param>
    /// <param name="From">The state the transition leaves (<c>FARM_STATE</c>).</param>
    /// <param name="To">The state it goes to (<c>FARM_NEXT_STATE</c>).</param>
    /// <param name="Action">Why: start, stop, restart, stopstart, wait, failure, primary (<c>FARM_ACTION</c>).</param>
    /// <param name="Reason">The human reason (<c>FARM_REASON</c>).</param>
    public sealed record RunScript(string Script, ModuleState From, ModuleState To, string Action, string Reason) : ModuleCommand;

    /// <summary>Stop all checker loops, then start those of <paramref name="Set"/> (none when null); their reports carry <paramref name="Generation"/>.</summary>
    public sealed record ArmCheckers(CheckerWhen? Set, long Generation) : ModuleCommand;

    /// <summary>Ready for traffic: <see cref="IModuleTrafficGate.OpenAsync"/>. No answer.</summary>
    public sealed record OpenTraffic(string Reason) : ModuleCommand;

    /// <summary>Leave the view: <see cref="IModuleTrafficGate.CloseAsync"/>; answer with <see cref="ModuleEvent.GateCompleted"/>.</summary>
    public sealed record CloseTraffic(string Reason) : ModuleCommand;

    /// <summary><see cref="IModuleTrafficGate.SetPrimaryAsync"/>; only false is answered, with <see cref="ModuleEvent.GateCompleted"/>.</summary>
    public sealed record SetPrimary(bool Primary) : ModuleCommand;

    /// <summary>Answer with <see cref="ModuleEvent.TimerFired"/> after <paramref name="Delay"/>.</summary>
    public sealed record StartTimer(TimeSpan Delay, long Generation) : ModuleCommand;
}
