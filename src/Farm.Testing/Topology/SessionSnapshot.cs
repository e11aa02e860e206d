namespace Farm.Testing.Topology;

/// <summary>One session of a <see cref="SessionLoad"/> as it stood at a moment. Times are since the load started.</summary>
public sealed record SessionSnapshot
{
    /// <summary>The session's number: sessions of source k are k * SessionsPerSource onwards.</summary>
    public required int Index { get; init; }

    /// <summary>TCP or UDP.</summary>
    public required SessionProtocol Protocol { get; init; }

    /// <summary>The source endpoint it was given (port 0: ephemeral).</summary>
    public required IPEndPoint Source { get; init; }

    /// <summary>The actual local endpoint once known (TCP: after connecting; UDP: after binding), else null.</summary>
    public IPEndPoint? LocalEndPoint { get; init; }

    /// <summary>Where it sends: the VIP (or node address) and port.</summary>
    public required IPEndPoint Target { get; init; }

    /// <summary>Where it stands.</summary>
    public required SessionState State { get; init; }

    /// <summary>The node that answered first (TCP: the node that accepted the connection), or null before any answer.</summary>
    public string? Node { get; init; }

    /// <summary>Every node that answered, first one first: more than one is a failure (see <see cref="NodeChanged"/>).</summary>
    public required IReadOnlyList<string> Nodes { get; init; }

    /// <summary>Messages sent and answered in time (UDP) or at all (TCP).</summary>
    public long RoundTrips { get; init; }

    /// <summary>Messages that waited longer than the answer timeout (TCP: still counted once answered later; UDP: requests unanswered in time).</summary>
    public long Timeouts { get; init; }

    /// <summary>UDP: requests unanswered within the answer timeout while a later request was answered in time.</summary>
    public long Lost { get; init; }

    /// <summary>UDP: answers that came after the answer timeout of their request.</summary>
    public long LateAnswers { get; init; }

    /// <summary>Answers beyond one per request (UDP: the same request answered twice; TCP: an answer with nothing outstanding).</summary>
    public long DuplicateAnswers { get; init; }

    /// <summary>Datagrams or lines that were not an answer to this session: from another address, malformed, an unknown request number.</summary>
    public long UnexpectedAnswers { get; init; }

    /// <summary>Gaps between two answers longer than the stall threshold (a gap still open counts too).</summary>
    public int Stalls { get; init; }

    /// <summary>
    /// The longest gap between two answers (TCP: the connect start counts as the first "answer"; UDP: the first
    /// request), including a gap still open while the session runs. A gap is at least as long as any latency inside it.
    /// </summary>
    public TimeSpan LongestStall { get; init; }

    /// <summary>The longest time from sending a message to receiving its answer.</summary>
    public TimeSpan MaxLatency { get; init; }

    /// <summary>TCP: from starting to connect to the greeting that named the node; null before it came, and for UDP.</summary>
    public TimeSpan? ConnectTime { get; init; }

    /// <summary>When the session ended (closed, reset, failed or stopped), or null while it runs.</summary>
    public TimeSpan? EndedAt { get; init; }

    /// <summary>Why it ended, if not by a clean close or the load's stop: e.g. "ConnectionReset", "end of stream".</summary>
    public string? EndReason { get; init; }

    /// <summary>More than one node answered this session: the node changed under a TCP connection or a UDP flow.</summary>
    public bool NodeChanged => Nodes.Count > 1;

    /// <summary>The session was answered by two nodes, or one request twice.</summary>
    public bool AnsweredByTwo => NodeChanged || DuplicateAnswers > 0;

    /// <summary>Still exchanging (or about to): pending, connecting, open or closing.</summary>
    public bool IsRunning => State is SessionState.Pending or SessionState.Connecting or SessionState.Open or SessionState.Closing;
}
