namespace Farm.Testing.Topology;

/// <summary>The shape of a <see cref="FarmTopology"/>.</summary>
public sealed record TopologyOptions
{
    /// <summary>Number of node namespaces. Default 3; 1 to 90.</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Number of client namespaces. Default 1; 0 to 50.</summary>
    public int Clients { get; init; } = 1;

    /// <summary>Source addresses per client and family. Default 1; 1 to 250.</summary>
    public int AddressesPerClient { get; init; } = 1;

    /// <summary>Give every host IPv6 addresses too. Default true.</summary>
    public bool IPv6 { get; init; } = true;

    /// <summary>Name of each host's interface into the bridge (names are per namespace). Default eth0.</summary>
    public string InterfaceName { get; init; } = "eth0";
}
