using System.Net;
using Farm.Core.Config;

namespace Farm.DataPlane.Conntrack;

/// <summary>
/// One TCP or UDP connection the kernel's conntrack table holds, in its original direction (the side that sent the
/// first packet is the source: for a client of a VIP, source = client, destination = VIP).
/// </summary>
/// <param name="Protocol">TCP or UDP.</param>
/// <param name="Source">The original sender's address (IPv4 or IPv6).</param>
/// <param name="SourcePort">The original sender's port.</param>
/// <param name="Destination">The original receiver's address.</param>
/// <param name="DestinationPort">The original receiver's port.</param>
/// <param name="Live">
/// True while the connection may still carry traffic the node must serve: TCP in every state except NONE, TIME_WAIT
/// and CLOSE; UDP always (UDP has no end, only conntrack's idle timeout).
/// </param>
public readonly record struct TrackedFlow(
    TransportProtocol Protocol,
    IPAddress Source,
    int SourcePort,
    IPAddress Destination,
    int DestinationPort,
    bool Live)
{
    /// <summary>"tcp 198.18.1.1:40000 -> 198.18.0.100:8080 live", for logs and test messages.</summary>
    public override string ToString() =>
        $"{Protocol.ToString().ToLowerInvariant()} {Endpoint(Source, SourcePort)} -> {Endpoint(Destination, DestinationPort)} {(Live ? "live" : "closing")}";

    // The address may be missing in a flow built wrongly; the text must still name it, for the error that says so.
    private static string Endpoint(IPAddress? address, int port) =>
        address?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address?.ToString() ?? "(none)"}:{port}";
}
