using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.Testing.Topology;

namespace Farm.Testing.Farmd;

/// <summary>
/// The module configurations the farm scenarios, benchmarks and data-plane tests share: the "web" rule set (TCP 8080 by
/// client IP, TCP 8081 by client IP and port, UDP 5353 by client IP) and a module on the topology's interface.
/// </summary>
public static class FarmModules
{
    /// <summary>The IPv4 VIP the scenarios serve their module on.</summary>
    public static readonly IPAddress Vip4 = IPAddress.Parse("198.18.0.100");

    /// <summary>The IPv6 VIP the scenarios serve their module on.</summary>
    public static readonly IPAddress Vip6 = IPAddress.Parse("2001:db8::100");

    /// <summary>The web rules' ports: TCP by client IP, TCP by client IP and port, UDP by client IP.</summary>
    public const int TcpPort = 8080;
    public const int TcpPortPort = 8081;
    public const int UdpPort = 5353;

    /// <summary>TCP 8080 by client IP, TCP 8081 by client IP and port, UDP 5353 by client IP.</summary>
    public static IReadOnlyList<PortRuleConfig> WebRules =>
    [
        Port(TransportProtocol.Tcp, TcpPort),
        Port(TransportProtocol.Tcp, TcpPortPort, Affinity.ClientIpPort),
        Port(TransportProtocol.Udp, UdpPort),
    ];

    /// <summary>One port of <paramref name="protocol"/>, its clients hashed by <paramref name="affinity"/>.</summary>
    public static PortRuleConfig Port(TransportProtocol protocol, int port, Affinity affinity = Affinity.ClientIp) =>
        new() { Protocol = protocol, FirstPort = port, LastPort = port, Affinity = affinity };

    /// <summary>
    /// A module on the interface of <see cref="TopologyOptions"/> with <paramref name="buckets"/> buckets (default 256,
    /// few enough to read in a test's failure message); with <paramref name="drain"/> its drain timeout, else the default one.
    /// </summary>
    public static ModuleConfig OnTopology(
        string name, IReadOnlyList<IPAddress> vips, IReadOnlyList<PortRuleConfig> rules, TimeSpan? drain = null, int buckets = 256)
    {
        var module = new ModuleConfig { Name = name, Vips = vips, Interface = new TopologyOptions().InterfaceName, Buckets = buckets, Rules = rules };
        return drain is { } d ? module with { Timeouts = new ModuleTimeoutOptions { Drain = d } } : module;
    }
}
