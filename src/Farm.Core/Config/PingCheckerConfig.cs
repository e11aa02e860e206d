namespace Farm.Core.Config;

/// <summary>A checker that passes while an address answers ICMP echo (<c>type: ping</c>), e.g. the default gateway.</summary>
public sealed record PingCheckerConfig : CheckerConfig
{
    /// <inheritdoc/>
    public override CheckerType Type => CheckerType.Ping;

    /// <summary><c>address</c>: IP address or host name to ping. Required.</summary>
    public required string Address { get; init; }
}
