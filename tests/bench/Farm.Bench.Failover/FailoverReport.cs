namespace Farm.Bench.Failover;

/// <summary>Markdown tables of the results: one summary per timing, then every repetition.</summary>
[SupportedOSPlatform("linux")]
internal static class FailoverReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string KindName(FailureKind kind) => kind switch
    {
        FailureKind.Kill => "kill -9 farmd + app",
        FailureKind.LinkDown => "veth link down 5 s",
        FailureKind.Stop => "SIGSTOP farmd 5 s",
        _ => kind.ToString(),
    };

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>The main table: per failure kind, the takeover and outage percentiles and the safety counts.</summary>
    public static void AppendSummary(StringBuilder report, IReadOnlyList<RepetitionResult> results, BenchOptions options)
    {
        report.AppendLine("| failure | reps | samples | failure → first answer by another node: p50 / p99 / max | client's outage: p50 / p99 / max | connections answered by two nodes | clients answered by two nodes in turn | clients never served again | not taken over before restore |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var group in results.GroupBy(r => r.Kind))
        {
            var takeover = group.SelectMany(r => r.TakeoverMs).Order().ToList();
            var outage = group.SelectMany(r => r.OutageMs).Order().ToList();
            report.AppendLine(Inv, $"| {KindName(group.Key)} | {group.Count()} | {takeover.Count} | {Three(takeover)} | {Three(outage)} | {group.Sum(r => r.DoubleAnswered)} | {group.Sum(r => r.OverlapClients)} | {group.Sum(r => r.NeverServedAgain)} | {group.Sum(r => r.NoTakeover)} |");
        }

        report.AppendLine();
        report.AppendLine("| failure | attempts/s (target) | answered/s | skipped pacer slots | clients of other nodes silent > " +
            Ms(options.BystanderGap.TotalMilliseconds) + " (longest silence) | of them with attempts failing in a row > " +
            Ms(options.BystanderGap.TotalMilliseconds) + " (longest run) | SYNs without a name on the wire in a row > " +
            Ms(options.BystanderGap.TotalMilliseconds) + ": proven (longest) / up to the next answered SYN (longest) | the same without a SYN-ACK (the kernels' part) | misrouted before the failure | SYN-ACKs captured (dropped) | restore → settled, max |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        double target = options.Clients / options.Period.TotalSeconds;
        foreach (var group in results.GroupBy(r => r.Kind))
        {
            report.AppendLine(Inv, $"| {KindName(group.Key)} | {group.Average(r => r.AttemptsPerSecond):F0} ({target:F0}) | {group.Average(r => r.AnsweredPerSecond):F0} | {group.Sum(r => r.SkippedSlots)} | {group.Sum(r => r.BystandersInterrupted)} ({Ms(group.Max(r => r.BystanderMaxGapMs))}) | {group.Sum(r => r.BystandersRefused)} ({Ms(group.Max(r => r.BystanderMaxRefusalMs))}) | {WireRuns.Sum(group.Select(r => r.WithoutName))} | {WireRuns.Sum(group.Select(r => r.WithoutSynAck))} | {group.Sum(r => r.Misrouted)} | {group.Sum(r => r.SynAcks)} ({group.Sum(r => Math.Max(0, r.CaptureDropped))}) | {Ms(group.Max(r => r.ResettleMs))} |");
        }
    }

    /// <summary>One line per repetition.</summary>
    public static void AppendDetails(StringBuilder report, IReadOnlyList<RepetitionResult> results)
    {
        report.AppendLine("| rep | failure | failed node | its clients | takeover p50 / max | outage max | two nodes (conn / clients) | never served | no takeover | others silent (longest, at) | others failing in a row (longest) | no name on the wire: proven / up to | no SYN-ACK: proven / up to | attempts/s | refused / timed out / broken / failed | inject call | restore → settled |");
        report.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var t = r.TakeoverMs.Order().ToList();
            report.AppendLine(Inv, $"| {r.Repetition} | {KindName(r.Kind)} | {FailoverScenario.NodeName(r.Victim)} | {r.VictimClients} | {Ms(Percentile(t, 0.5))} / {Ms(t.Count > 0 ? t[^1] : double.NaN)} | {Ms(r.OutageMs.DefaultIfEmpty(double.NaN).Max())} | {r.DoubleAnswered} / {r.OverlapClients} | {r.NeverServedAgain} | {r.NoTakeover} | {r.BystandersInterrupted} ({Ms(r.BystanderMaxGapMs)}, +{Ms(r.BystanderMaxGapAtMs)}) | {r.BystandersRefused} ({Ms(r.BystanderMaxRefusalMs)}) | {r.WithoutName} | {r.WithoutSynAck} | {r.AttemptsPerSecond:F0} | {r.Outcomes[(int)AttemptOutcome.Refused]} / {r.Outcomes[(int)AttemptOutcome.TimedOut]} / {r.Outcomes[(int)AttemptOutcome.Broken]} / {r.Outcomes[(int)AttemptOutcome.Failed]} | {r.InjectMs:F1} ms | {Ms(r.ResettleMs)} |");
        }
    }

    /// <summary>The notes of every repetition.</summary>
    public static void AppendNotes(StringBuilder report, IReadOnlyList<RepetitionResult> results)
    {
        foreach (var r in results)
        {
            foreach (string note in r.Notes)
            {
                report.AppendLine(Inv, $"- rep {r.Repetition}, {KindName(r.Kind)} of {FailoverScenario.NodeName(r.Victim)}: {note}");
            }
        }
    }

    private static string Three(List<double> sorted) =>
        sorted.Count == 0 ? "-" : $"{Ms(Percentile(sorted, 0.5))} / {Ms(Percentile(sorted, 0.99))} / {Ms(sorted[^1])}";

    private static string Ms(double ms) => double.IsNaN(ms) ? "-" : ms.ToString("F0", Inv) + " ms";
}
