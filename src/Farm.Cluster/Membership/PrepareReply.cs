using System.Collections.Immutable;

namespace Farm.Cluster.Membership;

/// <summary>Answer to <see cref="PrepareRequest"/>: accepted (buckets lost to live nodes now drain), or why not.</summary>
/// <param name="Id">The proposal answered.</param>
/// <param name="Accepted">True when the member promised the view.</param>
/// <param name="Reason">Why not, for logs and status.</param>
/// <param name="NeedsBase">The member does not hold the base view: resend with the base tables.</param>
/// <param name="StillHeard">Runs this member hears that the proposal leaves out: the coordinator must include them.</param>
/// <param name="StillHeardFor">For each of <paramref name="StillHeard"/>: how long until this member stops hearing it (default: unknown).</param>
public sealed record PrepareReply(
    ViewId Id, bool Accepted, string? Reason, bool NeedsBase, ImmutableArray<MemberInfo> StillHeard, ImmutableArray<TimeSpan> StillHeardFor = default)
    : MembershipMessage;
