namespace Farm.Core.Scheduling;

/// <summary>
/// The OS boundary that raises the whole daemon's CPU priority (its nice value) above the applications on the node, so
/// that a saturated machine cannot starve the threads a heartbeat round trip passes through (docs/operations.md,
/// "CPU priority"). The programs the daemon starts (module scripts and the applications they start) run at the
/// priority the daemon had before.
/// </summary>
public interface IProcessPriority
{
    /// <summary>
    /// Sets every thread of this process, and so every thread it creates later, to nice value <paramref name="nice"/>
    /// (-20 to 19). Returns null when done, else why not, in words an operator can act on; never throws for a refusal.
    /// </summary>
    string? TryRaiseProcess(int nice);

    /// <summary>
    /// What a program started by this process must add to its nice value to run at the priority this process had
    /// before <see cref="TryRaiseProcess"/>: 0 until a raise succeeded.
    /// </summary>
    int ChildAdjustment { get; }
}
