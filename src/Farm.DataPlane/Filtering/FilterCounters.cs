namespace Farm.DataPlane.Filtering;

/// <summary>A snapshot of a filter's counters, by name (see the constants).</summary>
public sealed class FilterCounters
{
    /// <summary>Packets accepted because their bucket is owned.</summary>
    public const string Owned = "owned";

    /// <summary>Packets of incoming buckets let on to the connection-state check.</summary>
    public const string Incoming = "incoming";

    /// <summary>Packets of draining buckets let on to the connection-state check.</summary>
    public const string Draining = "draining";

    /// <summary>Packets dropped because another node owns their bucket.</summary>
    public const string Foreign = "foreign";

    /// <summary>Packets dropped because the lease lapsed.</summary>
    public const string NoLease = "nolease";

    /// <summary>Packets to a VIP that match no port rule, dropped.</summary>
    public const string Unmatched = "unmatched";

    /// <summary>Packets of incoming/draining buckets dropped by the connection-state check (new flows while draining, mid-stream packets while incoming).</summary>
    public const string HandoverDrop = "handover_drop";

    /// <summary>ICMP to a VIP not related to a tracked connection, dropped.</summary>
    public const string IcmpDrop = "icmp_drop";

    /// <summary>Creates a snapshot.</summary>
    public FilterCounters(IReadOnlyDictionary<string, CounterValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Values = values;
    }

    /// <summary>Every counter by name.</summary>
    public IReadOnlyDictionary<string, CounterValue> Values { get; }

    /// <summary>The counter <paramref name="name"/>, or zero when absent.</summary>
    public CounterValue this[string name] => Values.TryGetValue(name, out var v) ? v : default;

    /// <summary>The name of the counter of port rule <paramref name="index"/> (packets the rule hashed).</summary>
    public static string Rule(int index) => $"rule_{index}";
}
