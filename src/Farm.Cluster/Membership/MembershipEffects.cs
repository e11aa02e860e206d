namespace Farm.Cluster.Membership;

/// <summary>What one call of a <see cref="MembershipDriver"/> leaves the host to do (outside its lock, in farmd).</summary>
/// <param name="Outbox">Requests to send, in order.</param>
/// <param name="Changed">The ownership, when it changed since the previous call (and the driver publishes ownership), else null.</param>
/// <param name="LeaseExtendedTo">After a tick: the new lease expiry when the lease was extended (and the driver publishes ownership), else null.</param>
/// <param name="WakesCoordinator">After a message: the coordinator may have to act on it now rather than at the next tick.</param>
public readonly record struct MembershipEffects(
    IReadOnlyList<OutboundRequest> Outbox, OwnershipSnapshot? Changed, TimeSpan? LeaseExtendedTo = null, bool WakesCoordinator = false);
