namespace Farm.Testing.Topology;

/// <summary>How a <see cref="SessionLoad"/> runs its sessions.</summary>
public sealed record SessionLoadOptions
{
    /// <summary>TCP or UDP. Default TCP.</summary>
    public SessionProtocol Protocol { get; init; } = SessionProtocol.Tcp;

    /// <summary>Sessions opened from each source endpoint. Default 1; must be 1 for a source with a fixed port.</summary>
    public int SessionsPerSource { get; init; } = 1;

    /// <summary>Time between two messages of a session. Default 50 ms.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// A message unanswered this long counts as timed out. TCP keeps waiting for its answer (no new message is sent
    /// meanwhile, so the stall keeps growing); UDP counts the request unanswered and a later answer to it as late.
    /// Default 1 s.
    /// </summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>TCP: the longest wait from connect to the greeting that names the node; then the session failed. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gaps between two answers of a session longer than this count as stalls. Default 1 s.</summary>
    public TimeSpan StallThreshold { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait for a close to complete (the peer's FIN, the last UDP answers). Default 3 s.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Sessions served by one pacer loop; the loops run in parallel. Default 500.</summary>
    public int SessionsPerPacer { get; init; } = 500;

    /// <summary>
    /// A pacer wakes up this often and sends for the sessions whose turn it is, so sends spread evenly over the
    /// interval. Default 5 ms.
    /// </summary>
    public TimeSpan PacerSlot { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Time resolution of the latency histogram (<see cref="SessionLoad.GetLatency"/>). Default 100 ms.</summary>
    public TimeSpan LatencySlice { get; init; } = TimeSpan.FromMilliseconds(100);
}
