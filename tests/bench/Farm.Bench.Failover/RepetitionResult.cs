namespace Farm.Bench.Failover;

/// <summary>The figures of one failure of one node.</summary>
internal sealed record RepetitionResult
{
    public required int Repetition { get; init; }

    public required FailureKind Kind { get; init; }

    public required int Victim { get; init; }

    /// <summary>Clients whose bucket the failed node owned when it failed.</summary>
    public required int VictimClients { get; init; }

    /// <summary>Per client of the failed node that another node took over before the restore: failure → first answer by another node, ms.</summary>
    public required IReadOnlyList<double> TakeoverMs { get; init; }

    /// <summary>Per such client: last answer by the failed node (or the failure) → first answer by another node, ms.</summary>
    public required IReadOnlyList<double> OutageMs { get; init; }

    /// <summary>Clients of the failed node no other node answered before the node was restored.</summary>
    public required int NoTakeover { get; init; }

    /// <summary>Clients of the failed node without any answer after the failure, to the end of the repetition.</summary>
    public required int NeverServedAgain { get; init; }

    /// <summary>Connection attempts (client, port, ISN) that got SYN-ACKs from two different nodes.</summary>
    public required int DoubleAnswered { get; init; }

    /// <summary>Clients answered by two nodes in turn: the answering node changed twice within the flip window, or the failed node answered after the takeover and before the restore.</summary>
    public required int OverlapClients { get; init; }

    /// <summary>Answers before the failure from a node that did not own the client's bucket in the kernel table read just before.</summary>
    public required int Misrouted { get; init; }

    /// <summary>Clients of the surviving nodes that went longer than the bystander gap without an answer after the failure.</summary>
    public required int BystandersInterrupted { get; init; }

    /// <summary>Longest time without an answer of any client of a surviving node after the failure, ms.</summary>
    public required double BystanderMaxGapMs { get; init; }

    /// <summary>Clients of the surviving nodes whose attempts failed in a row for longer than the bystander gap after the failure.</summary>
    public required int BystandersRefused { get; init; }

    /// <summary>Longest run of failed attempts of any client of a surviving node after the failure, ms (first failed start to next answered start).</summary>
    public required double BystanderMaxRefusalMs { get; init; }

    /// <summary>When that longest silence began, ms after the failure.</summary>
    public required double BystanderMaxGapAtMs { get; init; }

    /// <summary>
    /// Clients of the surviving nodes whose SYNs got no name on the client namespace's wire within the attempt timeout, in
    /// a row for longer than the bystander gap after the failure (the farm and the node's app, not the load's sockets).
    /// </summary>
    public required WireRuns WithoutName { get; init; }

    /// <summary>The same with the node kernel's SYN-ACK as the answer: the farm's filter and lease alone.</summary>
    public required WireRuns WithoutSynAck { get; init; }

    /// <summary>Attempts per <see cref="AttemptOutcome"/> (all clients, the whole load).</summary>
    public required IReadOnlyList<int> Outcomes { get; init; }

    /// <summary>Diagnostics worth reading: overlapping clients with their answer runs, stalls of the benchmark, odd errors.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    public required double AttemptsPerSecond { get; init; }

    public required double AnsweredPerSecond { get; init; }

    public required long SkippedSlots { get; init; }

    public required long SynAcks { get; init; }

    public required long CaptureDropped { get; init; }

    /// <summary>How long the call that injected the failure took (the failure instant is taken just before it), ms.</summary>
    public required double InjectMs { get; init; }

    /// <summary>Restore (restart, link up, SIGCONT) → the farm settled again with all nodes, ms.</summary>
    public required double ResettleMs { get; init; }
}
