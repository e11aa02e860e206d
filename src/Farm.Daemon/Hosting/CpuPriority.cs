using Farm.Core.Scheduling;

namespace Farm.Daemon.Hosting;

/// <summary>
/// farmd's nice value, raised at start above the applications' so that a saturated node cannot starve the threads a
/// heartbeat round trip passes through (Kestrel, the HTTP/2 client, the thread pool): the heartbeat thread alone at
/// real-time priority does not renew the lease, the round trips do. The programs farmd starts run at the priority farmd
/// had before (<see cref="ChildAdjustment"/>). docs/operations.md, "CPU priority".
/// </summary>
/// <param name="Nice">The nice value farmd runs at.</param>
/// <param name="ChildAdjustment">What module scripts add to farmd's nice value (0 when it was not raised).</param>
/// <param name="Refusal">Why the raise did not happen, or null.</param>
internal sealed record CpuPriority(int Nice, int ChildAdjustment, string? Refusal)
{
    /// <summary>The nice value farmd asks for (<see cref="FarmdPriority.Nice"/>).</summary>
    public const int FarmdNice = FarmdPriority.Nice;

    /// <summary>In-process hosts and tests: nothing raised, scripts run at the host's own priority.</summary>
    public static readonly CpuPriority NotRaised = new(0, 0, null);

    /// <summary>Raises this process to <see cref="FarmdNice"/> through <paramref name="priority"/>.</summary>
    public static CpuPriority Raise(IProcessPriority priority)
    {
        ArgumentNullException.ThrowIfNull(priority);
        string? refusal = priority.TryRaiseProcess(FarmdNice);
        return refusal is null ? new CpuPriority(FarmdNice, priority.ChildAdjustment, null) : new CpuPriority(0, 0, refusal);
    }
}
