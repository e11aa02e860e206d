namespace Farm.Bench.Failover;

/// <summary>
/// The kernel's receive-side packet counters, summed over the CPUs (<c>/proc/net/softnet_stat</c>, the whole machine:
/// every namespace's veths go through them). Dropped: packets dropped because a CPU's backlog queue was full; squeezed:
/// times the receive softirq ran out of budget and left work for later (to ksoftirqd, which runs at normal priority).
/// A SYN dropped there gets no SYN-ACK, whatever the farm does.
/// </summary>
internal readonly record struct SoftnetCounters(long Dropped, long Squeezed)
{
    public static SoftnetCounters operator -(SoftnetCounters a, SoftnetCounters b) => new(a.Dropped - b.Dropped, a.Squeezed - b.Squeezed);

    public static SoftnetCounters Read()
    {
        long dropped = 0;
        long squeezed = 0;
        foreach (string line in File.ReadLines("/proc/net/softnet_stat"))
        {
            string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length >= 3)
            {
                dropped += long.Parse(columns[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                squeezed += long.Parse(columns[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }

        return new SoftnetCounters(dropped, squeezed);
    }
}
