namespace Farm.Cluster.Membership;

/// <summary>
/// Sent to every peer on every LAN each interval: who I am, my config hash and the views I hold.
/// <paramref name="WitnessLost"/>: under split-brain policy witness, the sender has not reached the witness lately and must not coordinate.
/// <paramref name="Quiet"/>: the sender needs no answer (see <see cref="MembershipOptions.QuietSpan"/>); a receiver on the
/// heartbeat stream then answers nothing, a unary call is always answered.
/// </summary>
public sealed record HeartbeatRequest(
    MemberInfo Sender, string ConfigHash, ViewId? Installed, ViewId? Promised, bool WitnessLost = false, DrainReport? Drains = null, bool Quiet = false) : MembershipMessage;
