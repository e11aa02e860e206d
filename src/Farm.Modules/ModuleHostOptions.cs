namespace Farm.Modules;

/// <summary>Where and as whom a module runs on this node (the module's own settings are in its <c>farm.yaml</c>).</summary>
public sealed record ModuleHostOptions
{
    /// <summary>Default of <see cref="GateConfirmTimeout"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultGateConfirmTimeout = TimeSpan.FromSeconds(10);

    /// <summary>This node's name from the cluster file (passed to scripts as <c>FARM_NODE</c>). Required.</summary>
    public required string NodeName { get; init; }

    /// <summary>The module folder holding <c>farm.yaml</c>, <c>bin/</c> and custom checkers. Scripts run with it as working directory. Required.</summary>
    public required string ModuleDirectory { get; init; }

    /// <summary>
    /// How long, beyond <c>timeouts.drain</c>, the manager waits for <see cref="IModuleTrafficGate.CloseAsync"/> before it
    /// stops the application anyway (a stop must never hang on a lost confirmation). Default 10 s.
    /// </summary>
    public TimeSpan GateConfirmTimeout { get; init; } = DefaultGateConfirmTimeout;

    /// <summary>
    /// Added to the daemon's nice value for every script it runs (through nice(1)), and so for the applications the
    /// scripts start: the daemon raises its own priority and gives the scripts back the one it had. 0 (the default):
    /// scripts run at the daemon's priority.
    /// </summary>
    public int ScriptNiceAdjustment { get; init; }

    /// <summary>Hears every check, script run and recovery (metrics); null (the default) for none.</summary>
    public IModuleObserver? Observer { get; init; }
}
