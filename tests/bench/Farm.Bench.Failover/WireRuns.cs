namespace Farm.Bench.Failover;

/// <summary>
/// Clients of the surviving nodes whose SYNs went unanswered in a row on the client namespace's wire (see
/// <see cref="CaptureTimeline.LongestUnansweredRun"/>): how many had a run longer than the bystander gap, proven (first to
/// last unanswered SYN) and at most (first unanswered SYN to the next answered one), and the longest of each.
/// </summary>
internal sealed class WireRuns
{
    /// <summary>Clients whose proven run was longer than the gap.</summary>
    public int Proven { get; private set; }

    /// <summary>Clients whose run, up to the next answered SYN, was longer than the gap.</summary>
    public int Upper { get; private set; }

    public double LongestProvenMs { get; private set; }

    public double LongestUpperMs { get; private set; }

    public void Add((long Proven, long Upper) run, TimeSpan gap, Func<long, double> ms)
    {
        ArgumentNullException.ThrowIfNull(ms);
        double proven = ms(run.Proven);
        double upper = ms(run.Upper);
        Proven += proven > gap.TotalMilliseconds ? 1 : 0;
        Upper += upper > gap.TotalMilliseconds ? 1 : 0;
        LongestProvenMs = Math.Max(LongestProvenMs, proven);
        LongestUpperMs = Math.Max(LongestUpperMs, upper);
    }

    /// <summary>The sum over several repetitions, longest of the longest.</summary>
    public static WireRuns Sum(IEnumerable<WireRuns> runs)
    {
        var sum = new WireRuns();
        foreach (var r in runs)
        {
            sum.Proven += r.Proven;
            sum.Upper += r.Upper;
            sum.LongestProvenMs = Math.Max(sum.LongestProvenMs, r.LongestProvenMs);
            sum.LongestUpperMs = Math.Max(sum.LongestUpperMs, r.LongestUpperMs);
        }

        return sum;
    }

    /// <summary>"proven (longest) / up to (longest)" for a table cell.</summary>
    public override string ToString() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture, $"{Proven} ({LongestProvenMs:F0} ms) / {Upper} ({LongestUpperMs:F0} ms)");
}
