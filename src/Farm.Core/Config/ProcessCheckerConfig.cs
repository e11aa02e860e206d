namespace Farm.Core.Config;

/// <summary>A checker that counts the processes matching a name or a regular expression (<c>type: process</c>).</summary>
public sealed record ProcessCheckerConfig : CheckerConfig
{
    /// <summary>Default of <see cref="Min"/>.</summary>
    public const int DefaultMin = 1;

    /// <inheritdoc/>
    public override CheckerType Type => CheckerType.Process;

    /// <summary><c>process</c>: exact process name; exactly one of this and <see cref="Regex"/> is set.</summary>
    public string? ProcessName { get; init; }

    /// <summary><c>regex</c>: .NET regular expression matched against the command line; exactly one of this and <see cref="ProcessName"/> is set.</summary>
    public string? Regex { get; init; }

    /// <summary><c>min</c>: fewest matching processes that pass. Default 1; 0 to 10000.</summary>
    public int Min { get; init; } = DefaultMin;

    /// <summary><c>max</c>: most matching processes that pass; null (the default) means no upper limit. At least <see cref="Min"/>.</summary>
    public int? Max { get; init; }
}
