using Farm.DataPlane.Filtering;
using Prometheus;

namespace Farm.Daemon.Telemetry;

/// <summary>
/// Packets and bytes per module from the kernel filter's counters, read at scrape time: accepted (owned, incoming and
/// draining buckets, less what the hand-over check dropped) and dropped by reason. Counters restart when a module's
/// filter is installed again; <see cref="MonotonicTotals"/> keeps the exported totals growing.
/// </summary>
internal sealed class FilterMetrics
{
    /// <summary>The filter counters of dropped packets, by the reason label they get.</summary>
    internal static readonly string[] DropCounters =
        [FilterCounters.Foreign, FilterCounters.NoLease, FilterCounters.Unmatched, FilterCounters.HandoverDrop, FilterCounters.IcmpDrop];

    private readonly Counter acceptedPackets;
    private readonly Counter acceptedBytes;
    private readonly Counter droppedPackets;
    private readonly MonotonicTotals totals = new();

    public FilterMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        acceptedPackets = factory.CreateCounter("farm_accepted_packets_total", "Packets to the module's VIPs that this node's filter accepted.", ["module"]);
        acceptedBytes = factory.CreateCounter("farm_accepted_bytes_total", "Bytes of the packets counted by farm_accepted_packets_total.", ["module"]);
        droppedPackets = factory.CreateCounter(
            "farm_dropped_packets_total", "Packets to the module's VIPs that this node's filter dropped, by reason (foreign, nolease, unmatched, handover_drop, icmp_drop).", ["module", "reason"]);
    }

    /// <summary>Accepted packets and bytes of one reading: owned + incoming + draining, less the hand-over drops.</summary>
    internal static CounterValue Accepted(FilterCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        var (owned, incoming, draining, dropped) =
            (counters[FilterCounters.Owned], counters[FilterCounters.Incoming], counters[FilterCounters.Draining], counters[FilterCounters.HandoverDrop]);
        ulong packets = owned.Packets + incoming.Packets + draining.Packets;
        ulong bytes = owned.Bytes + incoming.Bytes + draining.Bytes;
        return new CounterValue(packets - Math.Min(packets, dropped.Packets), bytes - Math.Min(bytes, dropped.Bytes));
    }

    /// <summary>Sets the module's counters from one reading of its filter.</summary>
    public void Update(string module, FilterCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        var accepted = Accepted(counters);
        acceptedPackets.WithLabels(module).IncTo(totals.Total(module + "/packets", accepted.Packets));
        acceptedBytes.WithLabels(module).IncTo(totals.Total(module + "/bytes", accepted.Bytes));
        foreach (string reason in DropCounters)
        {
            droppedPackets.WithLabels(module, reason).IncTo(totals.Total(module + "/" + reason, counters[reason].Packets));
        }
    }
}
