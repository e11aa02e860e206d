namespace Farm.Daemon.Tests.TestSupport;

/// <summary>A thread priority that grants every request and remembers the last priority asked (from any thread).</summary>
internal sealed class RecordingPriority : Farm.Core.Scheduling.IThreadPriority
{
    private int asked;

    /// <summary>The priority last asked for, 0 before any request.</summary>
    public int Asked => Volatile.Read(ref asked);

    public string? TryRaiseCurrentThread(int priority)
    {
        Volatile.Write(ref asked, priority);
        return null;
    }
}
