using Farm.Cluster.Membership;

namespace Farm.Testing.Simulation;

/// <summary>One simulated farmd: its current run's manager and process state.</summary>
public sealed class SimNode(string name)
{
    public string Name { get; } = name;

    public int Weight { get; set; } = 100;

    public int Incarnation { get; set; }

    public SimNodeState State { get; set; } = SimNodeState.Crashed;

    /// <summary>Drives the current (or, after a crash, the last) run, as farmd's MembershipHost does.</summary>
    public MembershipDriver? Driver { get; set; }

    /// <summary>The current (or, after a crash, the last) run; a crashed run's state models the kernel's leftovers.</summary>
    public MembershipManager? Manager => Driver?.Manager;

    /// <summary>
    /// The crashed run's process is gone while its host stays up: its live table went with it, so its kernel accepts
    /// nothing whatever its lease says (<see cref="SimCluster.Crash"/> with <c>processGone</c>).
    /// </summary>
    public bool ProcessGone { get; set; }

    /// <summary>True while this node's kernel accepts traffic of the buckets its ownership holds: a live table and a lease.</summary>
    public bool KernelAccepts(TimeSpan now) => Manager is { } m && now < m.LeaseExpiry && !ProcessGone;

    /// <summary>Messages that arrived while paused or starved.</summary>
    public List<object> Deferred { get; } = [];

    /// <summary>
    /// True while the threads that read and write this node's sockets do not run and its heartbeat thread does
    /// (<see cref="SimCluster.Starve"/>): it ticks, reads nothing and sends nothing.
    /// </summary>
    public bool Starved { get; set; }

    /// <summary>What a starved node sent: it leaves when the node's writers run again.</summary>
    public List<OutboundRequest> Held { get; } = [];

    /// <summary>farmd's probe of its readers (<see cref="MembershipManager.NoteReaders"/>): since when one waits, null when none.</summary>
    public TimeSpan? ProbeWaitingSince { get; set; }

    /// <summary>The latest probe that ran: when it was queued and when it ran.</summary>
    public (TimeSpan Queued, TimeSpan Ran)? ProbeRan { get; set; }

    public ViewId? LastInstalled { get; set; }

    /// <summary>The ownership version this node last reported drains for (drain tracking on).</summary>
    public long ReportedVersion { get; set; } = -1;

    public override string ToString() => $"{Name}({State})";
}
