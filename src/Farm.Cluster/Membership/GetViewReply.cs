namespace Farm.Cluster.Membership;

/// <summary>The replier's installed view with its tables, or null.</summary>
public sealed record GetViewReply(ClusterView? View) : MembershipMessage;
