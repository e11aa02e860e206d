namespace Farm.Core.Config;

/// <summary>Escalation of repeated checker failures (module file <c>module.recovery</c>).</summary>
public sealed record RecoveryOptions
{
    /// <summary>Default of <see cref="MaxLoop"/>.</summary>
    public const int DefaultMaxLoop = 3;

    /// <summary>Default of <see cref="LoopInterval"/>: 24 h.</summary>
    public static readonly TimeSpan DefaultLoopInterval = TimeSpan.FromHours(24);

    /// <summary><c>maxloop</c>: recoveries (restart or stopstart) allowed within <see cref="LoopInterval"/>; one more stops the module. Default 3; 1 to 1000.</summary>
    public int MaxLoop { get; init; } = DefaultMaxLoop;

    /// <summary><c>loop_interval</c>: the sliding window over which recoveries are counted. Default 24 h; 1 m to 720 h.</summary>
    public TimeSpan LoopInterval { get; init; } = DefaultLoopInterval;
}
