namespace Farm.Cluster.Membership;

/// <summary>
/// Answer to a heartbeat. <paramref name="IncludesYou"/> is true when the replier's installed view (and its
/// promised view, if any) still lists the requester's run: only such round trips may refresh a lease.
/// </summary>
public sealed record HeartbeatReply(MemberInfo Sender, string ConfigHash, ViewId? Installed, ViewId? Promised, bool IncludesYou, bool WitnessLost = false, DrainReport? Drains = null) : MembershipMessage;
