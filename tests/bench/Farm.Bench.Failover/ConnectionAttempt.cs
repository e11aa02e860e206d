namespace Farm.Bench.Failover;

/// <summary>One TCP connection attempt of the load: who, when (monotonic timestamps) and what came back.</summary>
internal struct ConnectionAttempt
{
    /// <summary>Index of the client address.</summary>
    public int Client;

    /// <summary>When the SYN was sent (just before connect).</summary>
    public long Started;

    /// <summary>When the connect completed (the client's kernel took a SYN-ACK and the socket saw it), or 0 if it never did.</summary>
    public long Connected;

    /// <summary>When the attempt ended: the name was read, or the error or timeout was seen.</summary>
    public long Ended;

    /// <summary>How it ended.</summary>
    public AttemptOutcome Outcome;

    /// <summary>The node index in the answer (0 for node0 ...), or -1.</summary>
    public sbyte Node;
}
