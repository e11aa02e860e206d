using System.Net;

namespace Farm.Core.Ownership;

/// <summary>A client endpoint (source address and port) of a flow; as UDP flows a draining node still serves travel in drain reports and reach the new owner's filter.</summary>
/// <param name="Address">The client's IPv4 or IPv6 address.</param>
/// <param name="Port">The client's source port, 0 to 65535.</param>
public readonly record struct FlowKey(IPAddress Address, int Port)
{
    /// <summary>"198.18.1.1:40000" or "[2001:db8::1]:40000".</summary>
    public override string ToString() =>
        Address?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
