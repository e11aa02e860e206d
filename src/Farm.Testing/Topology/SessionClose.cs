namespace Farm.Testing.Topology;

/// <summary>How one session of a <see cref="SessionLoad"/> ended when it was asked to close.</summary>
/// <param name="Index">The session.</param>
/// <param name="Node">The node that served it, or null when no answer ever came.</param>
/// <param name="RequestedAt">When the close was asked for, since the load started.</param>
/// <param name="ClosedAt">When the session was over, since the load started: TCP got the peer's FIN; UDP got (or gave up on) its last answers.</param>
/// <param name="Clean">TCP: the peer answered our FIN with its own, without a reset. UDP: every request still waiting at the close got its answer.</param>
/// <param name="Problem">Why it was not clean; null when it was.</param>
public sealed record SessionClose(int Index, string? Node, TimeSpan RequestedAt, TimeSpan ClosedAt, bool Clean, string? Problem)
{
    /// <summary>How long the close took.</summary>
    public TimeSpan Duration => ClosedAt - RequestedAt;
}
