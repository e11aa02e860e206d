using Farm.Core.Config;

namespace Farm.DataPlane.Filtering;

/// <summary>
/// The kernel-side ownership filter of one module: only packets to the module's VIPs whose bucket this node owns
/// (or may take or keep during a handover) are accepted. Implementations are thread-safe.
/// </summary>
public interface IPacketFilter : IDisposable
{
    /// <summary>
    /// Installs (or atomically replaces) the module's filter. Until <see cref="Apply"/> and <see cref="RefreshLease"/>
    /// are called it owns no bucket and holds no lease, so all traffic to the VIPs is dropped (fail-closed).
    /// </summary>
    void Install(ModuleConfig moduleConfig);

    /// <summary>Replaces the owned, incoming and draining buckets in one kernel transaction.</summary>
    void Apply(BucketAssignment assignment);

    /// <summary>Extends the kernel-enforced lease: without another refresh within <paramref name="duration"/> the kernel drops all VIP traffic.</summary>
    void RefreshLease(TimeSpan duration);

    /// <summary>Reads the filter's packet counters.</summary>
    FilterCounters ReadCounters();

    /// <summary>Removes everything <see cref="Install"/> created; does nothing when nothing is installed.</summary>
    void Remove();
}
