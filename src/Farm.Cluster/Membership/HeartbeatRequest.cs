namespace Farm.Cluster.Membership;

/// <summary>Sent to every peer on every LAN each interval: who I am, my config hash and the views I hold.</summary>
public sealed record HeartbeatRequest(MemberInfo Sender, string ConfigHash, ViewId? Installed, ViewId? Promised) : MembershipMessage;
