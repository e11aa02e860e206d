namespace Farm.Core.Config;

/// <summary>A checker that passes when a TCP connection to <see cref="Address"/>:<see cref="Port"/> opens (<c>type: tcp</c>).</summary>
public sealed record TcpCheckerConfig : CheckerConfig
{
    /// <inheritdoc/>
    public override CheckerType Type => CheckerType.Tcp;

    /// <summary><c>address</c>: IP address or host name to connect to, e.g. 127.0.0.1. Required.</summary>
    public required string Address { get; init; }

    /// <summary><c>port</c>: TCP port, 1 to 65535. Required.</summary>
    public required int Port { get; init; }
}
