namespace Farm.Daemon.Telemetry;

/// <summary>Label values shared by the collectors (lower case, as Prometheus label values usually are).</summary>
internal static class MetricNames
{
    /// <summary>Node states of <c>farm_node_state</c>.</summary>
    public static readonly string[] NodeStates = ["up", "down", "excluded", "unknown"];

    /// <summary>Drain states of <c>farm_node_drain_state</c>.</summary>
    public static readonly string[] DrainStates = ["none", "draining", "drained"];

    /// <summary>Module states of <c>farm_module_state</c>.</summary>
    public static readonly string[] ModuleStates = ["stop", "wait", "up"];

    /// <summary>Sub-states of <c>farm_module_substate</c>.</summary>
    public static readonly string[] ModuleSubStates = ["not_ready", "transient", "ready"];

    /// <summary>Bucket states of <c>farm_module_buckets</c>.</summary>
    public static readonly string[] BucketStates = ["owned", "incoming", "draining"];
}
