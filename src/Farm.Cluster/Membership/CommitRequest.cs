namespace Farm.Cluster.Membership;

/// <summary>Phase 2: every member promised the view; install it.</summary>
public sealed record CommitRequest(ViewId Id) : MembershipMessage;
