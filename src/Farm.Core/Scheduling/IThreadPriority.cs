namespace Farm.Core.Scheduling;

/// <summary>The OS boundary that raises a thread's scheduling priority (the heartbeat thread's, see docs/operations.md).</summary>
public interface IThreadPriority
{
    /// <summary>
    /// Raises the calling thread to real-time priority <paramref name="priority"/> (1-99). Returns null when done, else
    /// why not, in words an operator can act on; never throws for a refusal.
    /// </summary>
    string? TryRaiseCurrentThread(int priority);
}
