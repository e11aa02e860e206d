namespace Farm.Cluster.Membership;

/// <summary>A request the manager wants sent; the transport answers with HandleReply or HandleFailure for the same id.</summary>
public sealed record OutboundRequest(long CorrelationId, string To, int Lan, MembershipMessage Message);
