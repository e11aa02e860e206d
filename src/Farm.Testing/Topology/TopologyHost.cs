namespace Farm.Testing.Topology;

/// <summary>A node or client of a <see cref="FarmTopology"/>: its namespace, interface and addresses.</summary>
/// <param name="Name">Logical name: node0, node1, ..., client0, ...</param>
/// <param name="Namespace">The host's network namespace.</param>
/// <param name="InterfaceName">The host's interface into the bridge.</param>
/// <param name="Addresses4">IPv4 addresses on the interface (a /16 inside 198.18.0.0/15); the first is the primary one.</param>
/// <param name="Addresses6">IPv6 addresses on the interface (a /64 inside 2001:db8::/32); empty without IPv6.</param>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed record TopologyHost(
    string Name, NetworkNamespace Namespace, string InterfaceName, IReadOnlyList<IPAddress> Addresses4, IReadOnlyList<IPAddress> Addresses6)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Namespace.Name})";
}
