namespace Farm.Testing.Nftables;

/// <summary>
/// One node's kernel filter for one module at one read by <see cref="KernelBucketSampler"/>: the buckets whose new flows
/// it accepts (owned, incoming, claimed) and until when its lease lives. A node without a lease element accepts nothing,
/// whatever its sets hold (the kernel drops every VIP packet then).
/// </summary>
/// <param name="Node">The node index.</param>
/// <param name="From">When the read started, on the sampler's clock: the kernel was listed at some moment between
/// <paramref name="From"/> and <paramref name="At"/>. A thread that is descheduled (or a process paused by its garbage
/// collector) between the listing and the return makes <paramref name="At"/> late; <paramref name="From"/> never is.</param>
/// <param name="At">When the read returned, on the sampler's clock.</param>
/// <param name="Accepting">Buckets in the owned, incoming or claimed set (empty when the table is missing).</param>
/// <param name="LeaseUntil">When the longest-lived lease element expires, on the sampler's clock; null: no lease element.</param>
/// <param name="Settled">No bucket incoming, claimed or draining.</param>
/// <param name="Problem">Why the table could not be read (no table: farmd not running or not started yet), or null.</param>
public sealed record KernelRead(int Node, TimeSpan From, TimeSpan At, IReadOnlySet<int> Accepting, TimeSpan? LeaseUntil, bool Settled, string? Problem)
{
    /// <summary>True when a lease element lived at the read.</summary>
    public bool Leased => LeaseUntil is not null;

    /// <summary>True when the kernel accepted new flows of <paramref name="bucket"/> at the read.</summary>
    public bool Accepts(int bucket) => Leased && Accepting.Contains(bucket);

    /// <summary>True when the kernel accepted new flows of some bucket at the read.</summary>
    public bool AcceptsAny => Leased && Accepting.Count > 0;
}
