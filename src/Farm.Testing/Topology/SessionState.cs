namespace Farm.Testing.Topology;

/// <summary>Where a session of a <see cref="SessionLoad"/> stands.</summary>
public enum SessionState
{
    /// <summary>Not started yet: the pacer reaches it within the first interval.</summary>
    Pending,

    /// <summary>TCP: connecting, or connected and waiting for the greeting that names the accepting node.</summary>
    Connecting,

    /// <summary>Exchanging a message every interval.</summary>
    Open,

    /// <summary>Closing on request: TCP sent its FIN and waits for the peer's; UDP waits for its last answers.</summary>
    Closing,

    /// <summary>Closed on request (see <see cref="SessionClose"/> for how cleanly).</summary>
    Closed,

    /// <summary>Ended by the peer or the network: a TCP reset, an end of stream, a broken pipe or another socket error.</summary>
    Reset,

    /// <summary>Never got going: the connection was refused or timed out, or the peer spoke nonsense.</summary>
    Failed,

    /// <summary>Still running when the load stopped.</summary>
    Stopped,
}
