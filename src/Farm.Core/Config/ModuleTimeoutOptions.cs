namespace Farm.Core.Config;

/// <summary>Time limits of module state transitions (module file <c>module.timeouts</c>).</summary>
public sealed record ModuleTimeoutOptions
{
    /// <summary>Default of <see cref="Start"/>: 60 s.</summary>
    public static readonly TimeSpan DefaultStart = TimeSpan.FromSeconds(60);

    /// <summary>Default of <see cref="Stop"/>: 60 s.</summary>
    public static readonly TimeSpan DefaultStop = TimeSpan.FromSeconds(60);

    /// <summary>Default of <see cref="StopForce"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultStopForce = TimeSpan.FromSeconds(10);

    /// <summary>Default of <see cref="Drain"/>: 30 s.</summary>
    public static readonly TimeSpan DefaultDrain = TimeSpan.FromSeconds(30);

    /// <summary><c>start</c>: limit for each start script (prestart, start_both, start_prim) unless the script overrides it. Default 60 s; 1 s to 1 h.</summary>
    public TimeSpan Start { get; init; } = DefaultStart;

    /// <summary><c>stop</c>: limit for each stop script (stop_prim, stop_both, poststop) before it is killed. Default 60 s; 1 s to 1 h.</summary>
    public TimeSpan Stop { get; init; } = DefaultStop;

    /// <summary><c>stop_force</c>: grace between the polite termination signal and the kill of a script that overran. Default 10 s; 1 s to 10 m.</summary>
    public TimeSpan StopForce { get; init; } = DefaultStopForce;

    /// <summary><c>drain</c>: how long a bucket moving away keeps serving the connections it already has. Default 30 s; 0 s (no drain) to 1 h.</summary>
    public TimeSpan Drain { get; init; } = DefaultDrain;
}
