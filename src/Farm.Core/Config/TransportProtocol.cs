namespace Farm.Core.Config;

/// <summary>The transport protocol a port rule matches.</summary>
public enum TransportProtocol
{
    /// <summary><c>tcp</c>.</summary>
    Tcp,

    /// <summary><c>udp</c>.</summary>
    Udp,
}
