using Farm.Testing.Farmd;

namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>Module configurations the tests share.</summary>
internal static class Modules
{
    public static readonly IPAddress Vip4 = FarmModules.Vip4;
    public static readonly IPAddress Vip6 = FarmModules.Vip6;

    /// <summary><see cref="Web"/>'s ports: TCP by client IP, TCP by client IP and port, UDP by client IP.</summary>
    public const int TcpPort = FarmModules.TcpPort;
    public const int TcpPortPort = FarmModules.TcpPortPort;
    public const int UdpPort = FarmModules.UdpPort;

    /// <summary>Two VIPs; tcp 8080 by client IP, tcp 8081 by client IP and port, udp 5353 by client IP.</summary>
    public static ModuleConfig Web(string name = "web", string iface = "eth0", uint seed = 0x6661726d, VmacMode vmacMode = VmacMode.UnicastFilter) => new()
    {
        Name = name,
        Vips = [Vip4, Vip6],
        Interface = iface,
        Buckets = 256,
        Seed = seed,
        VmacMode = vmacMode,
        Rules = FarmModules.WebRules,
    };
}
