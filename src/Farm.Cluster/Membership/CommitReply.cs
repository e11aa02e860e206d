namespace Farm.Cluster.Membership;

/// <summary>Answer to <see cref="CommitRequest"/>: whether the member now has the view installed.</summary>
public sealed record CommitReply(ViewId Id, bool Installed) : MembershipMessage;
