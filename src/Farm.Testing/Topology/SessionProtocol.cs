namespace Farm.Testing.Topology;

/// <summary>The transport of the sessions of a <see cref="SessionLoad"/>.</summary>
public enum SessionProtocol
{
    /// <summary>One TCP connection per session, kept for the whole run.</summary>
    Tcp,

    /// <summary>One UDP socket per session (one flow: source address and port to the target), kept for the whole run.</summary>
    Udp,
}
