namespace Farm.Core.Config;

/// <summary>A checker that passes while a network interface has link (<c>type: interface</c>).</summary>
public sealed record InterfaceCheckerConfig : CheckerConfig
{
    /// <inheritdoc/>
    public override CheckerType Type => CheckerType.Interface;

    /// <summary><c>interface</c>: the interface name, e.g. eth0. Required.</summary>
    public required string Interface { get; init; }
}
