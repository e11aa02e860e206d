namespace Farm.Testing.Topology;

/// <summary>A node or client of a <see cref="FarmTopology"/>: its namespace, interface and addresses.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TopologyHost
{
    internal TopologyHost(string name, NetworkNamespace ns, string interfaceName, IReadOnlyList<IPAddress> addresses4, IReadOnlyList<IPAddress> addresses6)
    {
        Name = name;
        Namespace = ns;
        InterfaceName = interfaceName;
        Addresses4 = addresses4;
        Addresses6 = addresses6;
    }

    /// <summary>Logical name: node0, node1, ..., client0, ...</summary>
    public string Name { get; }

    /// <summary>The host's network namespace.</summary>
    public NetworkNamespace Namespace { get; }

    /// <summary>The host's interface into the bridge.</summary>
    public string InterfaceName { get; }

    /// <summary>IPv4 addresses on the interface (a /16 inside 198.18.0.0/15); the first is the primary one.</summary>
    public IReadOnlyList<IPAddress> Addresses4 { get; }

    /// <summary>IPv6 addresses on the interface (a /64 inside 2001:db8::/32); empty without IPv6.</summary>
    public IReadOnlyList<IPAddress> Addresses6 { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Namespace.Name})";
}
