namespace Farm.Testing.Topology;

/// <summary>
/// A <see cref="SessionLoad"/> at a moment: every session and the totals. The live snapshot counts gaps still open as
/// stalls too; the final one (from <see cref="SessionLoad.StopAsync"/>) closes them at the stop.
/// </summary>
public sealed class SessionLoadSnapshot
{
    private const int Examples = 5;

    internal SessionLoadSnapshot(TimeSpan elapsed, IReadOnlyList<SessionSnapshot> sessions, TimeSpan stallThreshold, TimeSpan pacerMaxLateness, long skippedSlots)
    {
        Elapsed = elapsed;
        Sessions = sessions;
        StallThreshold = stallThreshold;
        PacerMaxLateness = pacerMaxLateness;
        SkippedSlots = skippedSlots;
        var byNode = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long minRoundTrips = long.MaxValue;
        foreach (var s in sessions)
        {
            switch (s.State)
            {
                case SessionState.Pending or SessionState.Connecting:
                    Connecting++;
                    break;
                case SessionState.Open:
                    Open++;
                    break;
                case SessionState.Closing:
                    Closing++;
                    break;
                case SessionState.Closed:
                    Closed++;
                    break;
                case SessionState.Reset:
                    Reset++;
                    break;
                case SessionState.Failed:
                    Failed++;
                    break;
                case SessionState.Stopped:
                    Stopped++;
                    break;
            }

            RoundTrips += s.RoundTrips;
            Timeouts += s.Timeouts;
            Lost += s.Lost;
            LateAnswers += s.LateAnswers;
            DuplicateAnswers += s.DuplicateAnswers;
            UnexpectedAnswers += s.UnexpectedAnswers;
            Stalls += s.Stalls;
            StalledSessions += s.Stalls > 0 ? 1 : 0;
            NodeChanges += s.NodeChanged ? 1 : 0;
            AnsweredByTwo += s.AnsweredByTwo ? 1 : 0;
            MaxStall = s.LongestStall > MaxStall ? s.LongestStall : MaxStall;
            MaxLatency = s.MaxLatency > MaxLatency ? s.MaxLatency : MaxLatency;
            minRoundTrips = Math.Min(minRoundTrips, s.RoundTrips);
            if (s.Node is not null && s.State is SessionState.Open or SessionState.Closing or SessionState.Stopped)
            {
                byNode[s.Node] = byNode.GetValueOrDefault(s.Node) + 1;
            }
        }

        MinRoundTrips = sessions.Count == 0 ? 0 : minRoundTrips;
        SessionsByNode = byNode;
        Problems = FindProblems();
    }

    /// <summary>Time since the load started.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Every session, by index.</summary>
    public IReadOnlyList<SessionSnapshot> Sessions { get; }

    /// <summary>Number of sessions.</summary>
    public int Total => Sessions.Count;

    /// <summary>Sessions not yet exchanging: pending, or TCP connecting and waiting for the greeting.</summary>
    public int Connecting { get; }

    /// <summary>Sessions exchanging messages.</summary>
    public int Open { get; }

    /// <summary>Sessions closing on request.</summary>
    public int Closing { get; }

    /// <summary>Sessions closed on request.</summary>
    public int Closed { get; }

    /// <summary>Sessions ended by the peer or the network: reset, end of stream, broken pipe, another socket error.</summary>
    public int Reset { get; }

    /// <summary>Sessions that never got going: connect refused or timed out, no greeting, nonsense answers.</summary>
    public int Failed { get; }

    /// <summary>Sessions that ran until the load stopped.</summary>
    public int Stopped { get; }

    /// <summary>Messages answered, over all sessions.</summary>
    public long RoundTrips { get; }

    /// <summary>The fewest round trips of any session: every session has done at least this many.</summary>
    public long MinRoundTrips { get; }

    /// <summary>Messages that waited longer than the answer timeout.</summary>
    public long Timeouts { get; }

    /// <summary>UDP requests unanswered in time while a later request of the session was answered.</summary>
    public long Lost { get; }

    /// <summary>UDP answers that came after their request's answer timeout.</summary>
    public long LateAnswers { get; }

    /// <summary>Answers beyond one per request.</summary>
    public long DuplicateAnswers { get; }

    /// <summary>Datagrams or lines that answered nothing of their session.</summary>
    public long UnexpectedAnswers { get; }

    /// <summary>The stall threshold the load was given.</summary>
    public TimeSpan StallThreshold { get; }

    /// <summary>Gaps between two answers of a session longer than <see cref="StallThreshold"/>, over all sessions.</summary>
    public int Stalls { get; }

    /// <summary>Sessions with at least one stall.</summary>
    public int StalledSessions { get; }

    /// <summary>The longest gap between two answers of any session.</summary>
    public TimeSpan MaxStall { get; }

    /// <summary>The longest time any message waited for its answer.</summary>
    public TimeSpan MaxLatency { get; }

    /// <summary>Sessions answered by more than one node (TCP: the node changed under the connection).</summary>
    public int NodeChanges { get; }

    /// <summary>Sessions answered by two nodes or with a request answered twice: must be 0.</summary>
    public int AnsweredByTwo { get; }

    /// <summary>Live sessions (open, closing, or running at the stop) per node that serves them, by name.</summary>
    public IReadOnlyDictionary<string, int> SessionsByNode { get; }

    /// <summary>
    /// The longest the pacers woke up behind their schedule: when it nears the stall threshold, stalls may be the
    /// load generator's own (an overloaded machine) rather than the farm's.
    /// </summary>
    public TimeSpan PacerMaxLateness { get; }

    /// <summary>Send slots the pacers skipped because they fell more than an interval behind.</summary>
    public long SkippedSlots { get; }

    /// <summary>One line per kind of trouble with a few example sessions; empty when the run was clean.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>No resets, failures, stalls, timeouts, lost, late, duplicate or unexpected answers, and no node changes.</summary>
    public bool IsClean => Problems.Count == 0;

    /// <inheritdoc />
    public override string ToString()
    {
        string nodes = string.Join(", ", SessionsByNode.Select(p => Inv($"{p.Key}={p.Value}")));
        string summary = Inv(
            $"{Total} sessions at {Elapsed.TotalSeconds:0.000} s: {Open} open, {Connecting} connecting, {Closing} closing, {Closed} closed, {Reset} reset, {Failed} failed, {Stopped} stopped; {RoundTrips} round trips (min {MinRoundTrips}/session), max latency {Ms(MaxLatency)}, {Stalls} stalls > {Ms(StallThreshold)} (max gap {Ms(MaxStall)}), {Timeouts} timeouts, {Lost} lost, {LateAnswers} late, {DuplicateAnswers} duplicate, {UnexpectedAnswers} unexpected, {AnsweredByTwo} answered by two; by node: {nodes}; pacer late by up to {Ms(PacerMaxLateness)}, {SkippedSlots} slots skipped");
        return Problems.Count == 0 ? summary : summary + Environment.NewLine + string.Join(Environment.NewLine, Problems);
    }

    private static string Ms(TimeSpan value) => Inv($"{value.TotalMilliseconds:0} ms");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Describe(SessionSnapshot s) =>
        Inv($"#{s.Index} {s.LocalEndPoint ?? s.Source}->{s.Target} on {string.Join("+", s.Nodes.DefaultIfEmpty("?"))}");

    private List<string> FindProblems()
    {
        var problems = new List<string>();
        Add(problems, "reset", s => s.State == SessionState.Reset, s => Inv($"{s.EndReason} at {s.EndedAt?.TotalSeconds:0.000} s"));
        Add(problems, "failed", s => s.State == SessionState.Failed, s => s.EndReason ?? string.Empty);
        Add(problems, "closed uncleanly", s => s.State == SessionState.Closed && s.EndReason is not null, s => s.EndReason!);
        Add(problems, "stalled", s => s.Stalls > 0, s => Inv($"{s.Stalls} stalls, longest {Ms(s.LongestStall)}"));
        Add(problems, "answered by two", s => s.AnsweredByTwo, s => Inv($"{s.DuplicateAnswers} duplicate answers"));
        Add(problems, "with timeouts", s => s.Timeouts > 0, s => Inv($"{s.Timeouts} timeouts, {s.Lost} lost, {s.LateAnswers} late"));
        Add(problems, "with unexpected answers", s => s.UnexpectedAnswers > 0, s => Inv($"{s.UnexpectedAnswers} unexpected"));
        return problems;
    }

    private void Add(List<string> problems, string what, Func<SessionSnapshot, bool> test, Func<SessionSnapshot, string> detail)
    {
        var hits = Sessions.Where(test).ToList();
        if (hits.Count > 0)
        {
            string examples = string.Join("; ", hits.Take(Examples).Select(s => Describe(s) + ": " + detail(s)));
            problems.Add(Inv($"{hits.Count} sessions {what}: {examples}{(hits.Count > Examples ? "; ..." : string.Empty)}"));
        }
    }
}
