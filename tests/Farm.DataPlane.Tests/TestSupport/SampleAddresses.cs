namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>
/// The VIP (<see cref="Modules"/>' own), the node's and the client's MAC, and the client the unit tests' frames, datagrams and flows carry, in IPv4 and
/// IPv6 (test ranges only); imported statically in every file (a test class's own field of the same name wins).
/// </summary>
internal static class SampleAddresses
{
    public static readonly IPAddress Vip4 = Modules.Vip4;
    public static readonly IPAddress Vip6 = Modules.Vip6;
    public static readonly IPAddress Client4 = IPAddress.Parse("198.18.1.1");
    public static readonly IPAddress Client6 = IPAddress.Parse("2001:db8::1:1");
    public static readonly PhysicalAddress NodeMac = PhysicalAddress.Parse("0a-00-00-00-00-01");
    public static readonly PhysicalAddress ClientMac = PhysicalAddress.Parse("0a-00-00-00-00-99");
}
