namespace Farm.Core.Config;

/// <summary>One health checker of a module (an item of <c>module.checkers</c>); the subclasses carry the type-specific fields.</summary>
public abstract record CheckerConfig
{
    /// <summary>Default of <see cref="Interval"/>: 5 s.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    /// <summary>Default of <see cref="Timeout"/>: 2 s.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    /// <summary><c>name</c>: unique within the module; lower-case letters, digits and '-'. Required.</summary>
    public required string Name { get; init; }

    /// <summary><c>type</c>: the kind of check. Required.</summary>
    public abstract CheckerType Type { get; }

    /// <summary><c>interval</c>: time between two checks. Default 5 s; 100 ms to 1 h.</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary><c>timeout</c>: a check that has not answered after this long failed; must be less than <see cref="Interval"/>. Default 2 s; 10 ms to 1 h.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary><c>when</c>: <c>always</c> or <c>before_start</c>. Default <c>always</c>.</summary>
    public CheckerWhen When { get; init; } = CheckerWhen.Always;

    /// <summary><c>action</c>: <c>restart</c>, <c>stopstart</c>, <c>stop</c> or <c>wait</c>. Default <c>restart</c>.</summary>
    public CheckerAction Action { get; init; } = CheckerAction.Restart;
}
