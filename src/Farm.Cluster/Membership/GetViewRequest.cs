namespace Farm.Cluster.Membership;

/// <summary>Asks a peer for its installed view with its tables (catch-up after a missed commit, or a proposal's base).</summary>
public sealed record GetViewRequest : MembershipMessage;
