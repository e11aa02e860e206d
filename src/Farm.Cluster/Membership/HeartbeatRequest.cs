namespace Farm.Cluster.Membership;

/// <summary>
/// Sent to every peer on every LAN each interval: who I am, my config hash and the views I hold.
/// <paramref name="WitnessLost"/>: under split-brain policy witness, the sender has not reached the witness lately and must not coordinate.
/// <paramref name="Quiet"/>: the sender needs no answer (see <see cref="MembershipOptions.QuietSpan"/>); a receiver on the
/// heartbeat stream then answers nothing, a unary call is always answered.
/// <paramref name="SentAt"/>: when the sender sent it, on the sender's clock (set per recipient by <see cref="PeerMonitor"/>).
/// <paramref name="Echo"/>: the <paramref name="SentAt"/> of the newest heartbeat the sender got from the recipient's
/// current run, on the recipient's clock: proof that the sender lived after that moment (see <see cref="PeerMonitor.Vouches"/>).
/// Both are null from a sender of an older release; <paramref name="Echo"/> also until the sender heard the recipient's run.
/// <paramref name="Gone"/>: peers the sender saw die (<see cref="PeerMonitor.NoteGone"/>) and has not heard since; a
/// receiver that still hears one probes it itself (<see cref="MembershipManager.GoneToConfirm"/>). Null when none.
/// </summary>
public sealed record HeartbeatRequest(
    MemberInfo Sender, string ConfigHash, ViewId? Installed, ViewId? Promised, bool WitnessLost = false, DrainReport? Drains = null, bool Quiet = false,
    TimeSpan? SentAt = null, TimeSpan? Echo = null, IReadOnlyList<string>? Gone = null) : MembershipMessage;
