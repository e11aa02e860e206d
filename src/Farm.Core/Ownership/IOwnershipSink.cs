namespace Farm.Core.Ownership;

/// <summary>
/// What the membership tells the data plane: new bucket states and lease refreshes (farmd's MembershipHost calls it;
/// Farm.DataPlane's DataPlaneHost implements it).
/// </summary>
public interface IOwnershipSink
{
    /// <summary>
    /// A snapshot that may be newer than the last one; called outside the manager lock by the thread that changed it,
    /// before that thread sends any message caused by the change (so a release is in the kernel before it is
    /// acknowledged). Snapshots may arrive out of order from different threads: the sink keeps the highest version.
    /// </summary>
    void Publish(OwnershipSnapshot snapshot);

    /// <summary>On farmd's lease writer thread, soon after a tick that extended the manager's lease: extend the kernel's to <paramref name="duration"/> from now.</summary>
    void RefreshLease(TimeSpan duration);

    /// <summary>
    /// True when <see cref="RefreshLease"/> never waits (no lock another thread may hold, no I/O): farmd then calls it on
    /// the heartbeat thread itself instead of waking the lease writer thread for it. False by default.
    /// </summary>
    bool RefreshesLeaseInline => false;
}
