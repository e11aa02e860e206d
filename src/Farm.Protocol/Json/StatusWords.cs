using Farm.Protocol.V1;

namespace Farm.Protocol.Json;

/// <summary>The words status prints for its enums, shared by farmctl's tables and JSON and the web console.</summary>
public static class StatusWords
{
    /// <summary>"up", "down", "unknown" or "excluded".</summary>
    public static string State(NodeState state) => state switch
    {
        NodeState.Up => "up",
        NodeState.Down => "down",
        NodeState.Excluded => "excluded",
        _ => "unknown",
    };

    /// <summary>"none", "draining" or "drained".</summary>
    public static string Drain(DrainState state) => state switch
    {
        DrainState.Draining => "draining",
        DrainState.Drained => "drained",
        _ => "none",
    };

    /// <summary>"ready", "not_ready" or "unknown".</summary>
    public static string Readiness(ModuleReadiness readiness) => readiness switch
    {
        ModuleReadiness.Ready => "ready",
        ModuleReadiness.NotReady => "not_ready",
        _ => "unknown",
    };

    /// <summary>The share of a module's buckets, in percent with two decimals; 0 when the count is unknown.</summary>
    public static double SharePercent(ModuleBuckets buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        return buckets.BucketCount > 0 ? Math.Round(100.0 * buckets.Buckets / buckets.BucketCount, 2) : 0;
    }

    /// <summary>"STOP", "WAIT", "UP" (or "?").</summary>
    public static string ModuleState(ModuleRunState state) => state switch
    {
        ModuleRunState.Stop => "STOP",
        ModuleRunState.Wait => "WAIT",
        ModuleRunState.Up => "UP",
        _ => "?",
    };

    /// <summary>"not_ready", "transient", "ready" (or "unknown").</summary>
    public static string ModuleSubState(ModuleSubState subState) => subState switch
    {
        V1.ModuleSubState.NotReady => "not_ready",
        V1.ModuleSubState.Transient => "transient",
        V1.ModuleSubState.Ready => "ready",
        _ => "unknown",
    };
}
