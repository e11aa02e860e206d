using System.Collections.Immutable;
using Farm.Core.Buckets;

namespace Farm.Cluster.Membership;

/// <summary>
/// Phase 1 of a view change. Only the id and members travel; each member computes the tables from
/// <paramref name="Base"/> and checks <paramref name="TablesFingerprint"/>. <paramref name="BaseTables"/> travel only
/// when some member does not hold the base view (after a partition heals or for a newcomer).
/// <paramref name="Removed"/> lists runs of the base view that are gone without leaving gracefully.
/// </summary>
public sealed record PrepareRequest(
    ViewId Id,
    ImmutableArray<MemberInfo> Members,
    ViewId? Base,
    ImmutableArray<MemberInfo> Removed,
    ulong TablesFingerprint,
    ImmutableSortedDictionary<string, BucketTable>? BaseTables) : MembershipMessage;
