namespace Farm.Core.Hashing;

/// <summary>What part of a client's packet selects its bucket.</summary>
public enum Affinity
{
    /// <summary>The client address only: every connection of one client lands on one node (session affinity).</summary>
    ClientIp,

    /// <summary>The client address and source port: connections of one client spread over the nodes (stateless apps).</summary>
    ClientIpPort,
}
