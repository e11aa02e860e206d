using Farm.Daemon.Membership;

namespace Farm.Daemon.Drain;

/// <summary>
/// What this node announces as <c>Leaving</c>: an admin drain (<c>farmctl drain</c>/<c>resume</c>) and a shutdown,
/// kept apart. Either one makes the node leave; <see cref="Resume"/> ends only the drain, so it never cancels the
/// leave of a stopping farmd, and a drained node that is stopped still leaves.
/// </summary>
internal sealed class DrainSwitch(MembershipHost host)
{
    private readonly Lock gate = new();

    // Written under the gate, read without it: status reads them inside the membership lock, which UpdateSelf takes
    // inside the gate, so reading under the gate there could deadlock.
    private bool drained;
    private bool stopping;

    /// <summary>True while an admin drain is in force (until <see cref="Resume"/> or the end of this farmd run).</summary>
    public bool IsDrained => Volatile.Read(ref drained);

    /// <summary>True once farmd began to stop.</summary>
    public bool IsStopping => Volatile.Read(ref stopping);

    /// <summary>Starts an admin drain; false when the node was drained already (nothing changes).</summary>
    public bool Drain() => Set(drain: true, stop: null);

    /// <summary>Ends an admin drain; false when the node was not drained (nothing changes).</summary>
    public bool Resume() => Set(drain: false, stop: null);

    /// <summary>farmd stops: the node leaves, whatever the drain says.</summary>
    public void LeaveForShutdown() => Set(drain: null, stop: true);

    private bool Set(bool? drain, bool? stop)
    {
        lock (gate)
        {
            bool nextDrained = drain ?? drained;
            bool nextStopping = stop ?? stopping;
            if (nextDrained == drained && nextStopping == stopping)
            {
                return false;
            }

            Volatile.Write(ref drained, nextDrained);
            Volatile.Write(ref stopping, nextStopping);
            bool leaving = nextDrained || nextStopping;
            host.UpdateSelf(self => self with { Leaving = leaving });
            return true;
        }
    }
}
