namespace Farm.Daemon.Telemetry;

/// <summary>
/// Turns raw counters that restart from zero (a kernel filter installed again after a module stop and start) into
/// totals that only grow, as Prometheus counters must: a raw value below the last one starts a new run on top of the
/// total so far. Thread-safe.
/// </summary>
internal sealed class MonotonicTotals
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, (ulong Last, ulong Base)> runs = new(StringComparer.Ordinal);

    /// <summary>The total of <paramref name="key"/> after its raw counter read <paramref name="raw"/>.</summary>
    public ulong Total(string key, ulong raw)
    {
        lock (gate)
        {
            var (last, total) = runs.GetValueOrDefault(key);
            if (raw < last)
            {
                total += last; // the counter restarted: what it had counted stays counted
            }

            runs[key] = (raw, total);
            return total + raw;
        }
    }
}
