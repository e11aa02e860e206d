namespace Farm.Bench.Failover;

/// <summary>How one connection attempt ended.</summary>
internal enum AttemptOutcome : byte
{
    /// <summary>Not finished yet (only while the load runs).</summary>
    Pending,

    /// <summary>Connected and read a node's name.</summary>
    Answered,

    /// <summary>RST in answer to the SYN (a node accepted the packet but nothing listens: a dead app).</summary>
    Refused,

    /// <summary>No answer within the attempt timeout (the SYN was dropped, e.g. no node owns the bucket).</summary>
    TimedOut,

    /// <summary>Connected, then reset or closed before the name arrived.</summary>
    Broken,

    /// <summary>Any other socket error (e.g. network unreachable).</summary>
    Failed,
}
