namespace Farm.Core.Ownership;

/// <summary>
/// What the data plane tells the membership after it applied a snapshot: which draining buckets still hold connections
/// (Farm.DataPlane's DrainMonitor calls it; farmd's MembershipHost implements it).
/// </summary>
public interface IDrainReportSink
{
    /// <summary>Reports, per module, what a conntrack scan found after <paramref name="applied"/> was in the kernel.</summary>
    void ReportDrains(OwnershipSnapshot applied, IReadOnlyDictionary<string, ModuleDrainScan> scans);
}
