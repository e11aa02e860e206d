using Farm.DataPlane.Filtering;

namespace Farm.DataPlane.Runtime;

/// <summary>
/// The kernel side of one module on this node: its packet filter, VIPs and ARP/NDP responder. Calls are serialized
/// by <see cref="DataPlaneHost"/>. Dispose is <see cref="Stop"/>.
/// </summary>
public interface IModuleDataPlane : IDisposable
{
    /// <summary>The module's name.</summary>
    string Module { get; }

    /// <summary>
    /// Installs the filter (fail-closed: no bucket, no lease), binds the VIPs, starts answering ARP/NDP. On failure
    /// everything already done is undone before the exception propagates.
    /// </summary>
    void Start();

    /// <summary>
    /// Builds the filter afresh in one kernel transaction (fail-closed: no bucket, no lease), replacing whatever the
    /// kernel holds under its name: the repair after the kernel refused an update (the table deleted by a firewall
    /// reload, or replaced by another program). VIPs and responder are left as they are.
    /// </summary>
    void Reinstall();

    /// <summary>Replaces the bucket sets in one kernel transaction.</summary>
    void Apply(BucketAssignment assignment);

    /// <summary>Extends the kernel-enforced lease by <paramref name="duration"/> from now.</summary>
    void RefreshLease(TimeSpan duration);

    /// <summary>The filter's packet and byte counters; null when this data plane has none.</summary>
    Farm.DataPlane.Filtering.FilterCounters? ReadCounters() => null;

    /// <summary>Stops the responder, unbinds the VIPs and removes the filter, in that order; idempotent.</summary>
    void Stop();
}
