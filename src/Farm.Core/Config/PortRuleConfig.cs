using Farm.Core.Hashing;

namespace Farm.Core.Config;

/// <summary>One load-balanced port range of a module (an item of <c>module.rules</c>).</summary>
public sealed record PortRuleConfig
{
    /// <summary><c>protocol</c>: <c>tcp</c> or <c>udp</c>. Default <c>tcp</c>.</summary>
    public TransportProtocol Protocol { get; init; } = TransportProtocol.Tcp;

    /// <summary>First port of <c>ports</c> (1 to 65535). Required.</summary>
    public required int FirstPort { get; init; }

    /// <summary>Last port of <c>ports</c>, equal to <see cref="FirstPort"/> for a single port.</summary>
    public required int LastPort { get; init; }

    /// <summary><c>affinity</c>: <c>client_ip</c> (a client sticks to one node) or <c>client_ip_port</c> (connections spread). Default <c>client_ip</c>.</summary>
    public Affinity Affinity { get; init; } = Affinity.ClientIp;

    /// <summary>True when both rules have the same protocol and share at least one port.</summary>
    public bool Overlaps(PortRuleConfig other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Protocol == other.Protocol && FirstPort <= other.LastPort && other.FirstPort <= LastPort;
    }

    /// <summary>"tcp 80" or "udp 8000-8100", as messages and the CLI print it.</summary>
    public override string ToString() =>
        Protocol.ToString().ToLowerInvariant() + " " + (FirstPort == LastPort ? $"{FirstPort}" : $"{FirstPort}-{LastPort}");
}
