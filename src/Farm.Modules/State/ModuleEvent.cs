using Farm.Modules.Scripts;

namespace Farm.Modules.State;

/// <summary>An input of <see cref="ModuleStateMachine"/>: a request, or the completion of something it asked for.</summary>
internal abstract record ModuleEvent
{
    /// <summary>Start, stop or restart by an admin or the daemon.</summary>
    public sealed record Admin(AdminAction Action, string Reason) : ModuleEvent;

    /// <summary>A script asked for by <see cref="ModuleCommand.RunScript"/> ended.</summary>
    public sealed record ScriptCompleted(string Script, ScriptResult Result) : ModuleEvent;

    /// <summary>A check ended; results of an older arming (<paramref name="Generation"/>) are ignored.</summary>
    public sealed record CheckerReported(string Checker, long Generation, bool Up, string Detail) : ModuleEvent;

    /// <summary>The gate confirmed <see cref="ModuleCommand.CloseTraffic"/> or <c>SetPrimary(false)</c> (or the manager stopped waiting).</summary>
    public sealed record GateCompleted : ModuleEvent;

    /// <summary>Mode single: the view made this node the owner of the module (true) or no longer (false).</summary>
    public sealed record PrimaryRequested(bool Primary) : ModuleEvent;

    /// <summary>A timer of <see cref="ModuleCommand.StartTimer"/> fired.</summary>
    public sealed record TimerFired(long Generation) : ModuleEvent;
}
