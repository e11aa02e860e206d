namespace Farm.Bench.Failover;

/// <summary>How the benchmark fails a node.</summary>
internal enum FailureKind
{
    /// <summary>SIGKILL of farmd and, at the same instant, the end of the node's app (its name server closes every socket).</summary>
    Kill,

    /// <summary>The bridge-side end of the node's veth goes down (the node sees carrier loss, as with a pulled cable); up again after the outage.</summary>
    LinkDown,

    /// <summary>SIGSTOP of farmd (the app keeps running); SIGCONT after the outage.</summary>
    Stop,
}
