using System.Collections.Immutable;

namespace Farm.Modules;

/// <summary>An immutable snapshot of one module on one node, replaced whole on every change.</summary>
/// <param name="Module">Module name.</param>
/// <param name="Node">This node's name.</param>
/// <param name="State">STOP, WAIT or UP.</param>
/// <param name="SubState">NotReady, Transient or Ready.</param>
/// <param name="Reason">Why the module is in this state, e.g. "checker web-tcp down: connection refused".</param>
/// <param name="Since">When <paramref name="State"/> or <paramref name="SubState"/> last changed.</param>
/// <param name="Step">What runs now during a transition (e.g. "stop_both"); null when settled.</param>
/// <param name="RecoveryCount">Recoveries (restart/stopstart) counted in the current <c>loop_interval</c> window.</param>
/// <param name="IsPrimary">Mode single: this node ran start_prim and accepts the traffic.</param>
/// <param name="Checkers">The last result of every configured checker.</param>
public sealed record ModuleStatus(
    string Module,
    string Node,
    ModuleState State,
    ModuleSubState SubState,
    string Reason,
    DateTimeOffset Since,
    string? Step,
    int RecoveryCount,
    bool IsPrimary,
    ImmutableArray<CheckerStatus> Checkers)
{
    /// <summary>True only in UP/Ready: the node may own buckets of this module (it belongs in the view's ready modules).</summary>
    public bool IsReadyForTraffic => State == ModuleState.Up && SubState == ModuleSubState.Ready;

    /// <summary>True when no transition is in progress and the state is STOP.</summary>
    public bool IsStopped => State == ModuleState.Stop && SubState != ModuleSubState.Transient;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Module}@{Node}: {State.ToString().ToUpperInvariant()}/{SubState}{(IsPrimary ? " primary" : "")}{(Step is null ? "" : $" [{Step}]")} ({Reason})";
}
