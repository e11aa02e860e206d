namespace Farm.Daemon.ModuleHosting;

/// <summary>A module as status shows it: its configuration, its state machine's snapshot, its gate and its data plane.</summary>
/// <param name="Config">The module's farm.yaml.</param>
/// <param name="Status">The state machine's snapshot (synthesized before boot, or when the module cannot run here).</param>
/// <param name="TrafficOpen">The node announces the module ready.</param>
/// <param name="DataPlane">"running", "off", "pending" or "failed: REASON".</param>
internal sealed record ModuleRuntime(ModuleConfig Config, ModuleStatus Status, bool TrafficOpen, string DataPlane);
