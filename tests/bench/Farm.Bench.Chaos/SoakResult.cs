namespace Farm.Bench.Chaos;

/// <summary>Everything a soak saw, the invariants it checked after the run, and the markdown report.</summary>
internal sealed class SoakResult
{
    public int Seed { get; init; }

    public TimeSpan Duration { get; init; }

    public TimeSpan WallTime { get; set; }

    /// <summary>The heartbeat timings the farm ran with: the bounds below follow from them.</summary>
    public required HeartbeatOptions Timings { get; init; }

    public string? Root { get; set; }

    /// <summary>The UTC wall-clock time of the report's 0 s (the kernel sampler's start): farmd's logs carry wall-clock times.</summary>
    public DateTimeOffset? ClockOrigin { get; set; }

    public IReadOnlyList<string> Namespaces { get; set; } = [];

    public List<Fault> Faults { get; } = [];

    /// <summary>Moments when the last active fault ended: from each, every client must be served again within the bound.</summary>
    public List<TimeSpan> QuietPoints { get; } = [];

    public List<Violation> Violations { get; } = [];

    public List<string> Leftovers { get; } = [];

    /// <summary>Client gaps longer than the bound that no fault explains (a fault active, or ended less than the bound before).</summary>
    public List<string> UnexplainedGaps { get; } = [];

    public List<string> PossibleOverlaps { get; } = [];

    /// <summary>All possible overlaps found; only the first <see cref="AcceptorOverlapChecker.MaxKeptPossible"/> are in <see cref="PossibleOverlaps"/>.</summary>
    public long PossibleOverlapCount { get; private set; }

    /// <summary>
    /// Bounds that only the soak's own lateness exceeded: the kernels' cover read late with no miss read after the bound,
    /// or clients first answered late with no unanswered ask after the bound (the probe did not ask in time).
    /// </summary>
    public List<string> LateReads { get; } = [];

    public TimeSpan? FinalSettle { get; set; }

    public bool Interrupted { get; set; }

    public string? Failure { get; set; }

    /// <summary>Where the daemons' output was written (only when the soak failed).</summary>
    public string? OutputsFile { get; set; }

    public string Stats { get; private set; } = string.Empty;

    /// <summary>Served again after a fault ends: D + 2 intervals, plus one probe period (clients ask every 100 ms).</summary>
    public TimeSpan ServedBound => CoveredBound + ClientProbe.Period;

    /// <summary>Kernels cover every bucket again after a fault ends: D + 2 intervals.</summary>
    public TimeSpan CoveredBound => Timings.DetectionTimeout + (2 * Timings.Interval);

    public bool Passed => Failure is null && !Interrupted && Violations.Count == 0 && Leftovers.Count == 0;

    /// <summary>Checks the invariants over the recorded run (the overlaps were found while it ran).</summary>
    public void Evaluate(InvariantMonitor monitor, ClientProbe probe, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(probe);
        PossibleOverlapCount = monitor.PossibleOverlapCount;
        foreach (var o in monitor.Overlaps())
        {
            if (o.Definite)
            {
                Violations.Add(new Violation(o.At, "two kernels accepting one bucket while both leases are valid", o.Detail));
            }
            else
            {
                PossibleOverlaps.Add(Inv($"{o.At.TotalSeconds:F2} s: {o.Detail}"));
            }
        }

        foreach (var e in QuietPoints.Where(e => e + ServedBound + ClientProbe.AskTimeout < now))
        {
            // The kernels are read, not watched: the cover happened after the start of the last round that missed a bucket
            // and before the end of the first that did not. Only a miss read starting after the bound proves a late cover;
            // a cover read late because the sampler itself was held up is reported apart.
            var (covered, lastMiss, lastGap) = monitor.CoverageFrom(e);
            string gap = lastGap is null ? string.Empty : "; last gap " + lastGap;
            if (covered is null || lastMiss - e > CoveredBound)
            {
                Violations.Add(new Violation(e, "kernels cover every bucket again within D + 2 intervals after a fault ends",
                    (covered is null ? "never" : Inv($"after {(lastMiss!.Value - e).TotalMilliseconds:F0}-{(covered.Value - e).TotalMilliseconds:F0} ms")) + gap));
            }
            else if (covered - e > CoveredBound)
            {
                LateReads.Add(Inv($"{e.TotalSeconds:F2} s: kernels covered every bucket {(lastMiss is { } m ? (m - e).TotalMilliseconds : 0):F0}-{(covered.Value - e).TotalMilliseconds:F0} ms after the fault ended (bound {CoveredBound.TotalMilliseconds:F0} ms){gap}"));
            }

            // Likewise a client: late for certain when an ask it started after the kernels' bound went unanswered.
            var late = Enumerable.Range(0, probe.Clients)
                .Select(c => (Client: c, First: probe.FirstAnswerFrom(c, e)))
                .Where(x => x.First is null || x.First - e > ServedBound)
                .Select(x => (x.Client, x.First, Unanswered: probe.UnansweredBetween(x.Client, e + CoveredBound, x.First ?? now)))
                .ToList();
            if (late.Count > 0)
            {
                string detail = Inv(
                    $"{late.Count} of {probe.Clients} clients late, e.g. {string.Join("; ", late.Take(4).Select(x => $"{probe.NameOf(x.Client)} {(x.First is { } f ? $"after {(f - e).TotalMilliseconds:F0} ms" : "never")}, {x.Unanswered} asks unanswered after the bound{WhoAnswered(probe, x.Client, e)}"))}");
                if (late.Any(x => x.First is null || x.Unanswered > 0))
                {
                    Violations.Add(new Violation(e, "every client served again within D + 2 intervals (+ one probe period) after a fault ends", detail));
                }
                else
                {
                    LateReads.Add(Inv($"{e.TotalSeconds:F2} s: {detail} (no ask went unanswered: the probe did not ask in time)"));
                }
            }
        }

        foreach (var (client, from, to) in probe.Gaps(ServedBound))
        {
            bool explained = Faults.Any(f => f.Start - ServedBound <= to && (f.End ?? now) + ServedBound >= from);
            if (!explained)
            {
                UnexplainedGaps.Add(Inv($"{from.TotalSeconds:F2} s – {to.TotalSeconds:F2} s ({(to - from).TotalMilliseconds:F0} ms) {probe.NameOf(client)}"));
            }
        }

        Stats = Inv($"{monitor.Rounds} kernel rounds (every node every 10 ms; longest gap between rounds {monitor.LongestGap.TotalMilliseconds:F0} ms); {probe.Clients} clients, {probe.Asks} asks, {probe.Answers} answered, {probe.SkippedRounds} probe rounds late by more than a period");
    }

    public string ToMarkdown(string command)
    {
        var md = new StringBuilder();
        md.AppendLine(Inv($"# Chaos soak ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)"));
        md.AppendLine();
        md.AppendLine(Inv($"Command: `{command}`; seed {Seed}; {Duration.TotalMinutes:F0} min of faults, {WallTime.TotalMinutes:F1} min wall time; {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end; commit {Commit()}.{(ClockOrigin is { } origin ? Inv($" Times below count from {origin:HH:mm:ss.fff} UTC (farmd's logs are in UTC).") : string.Empty)}"));
        md.AppendLine();
        md.AppendLine(Inv($"Farm: 5 farmd in network namespaces, split-brain policy majority, two heartbeat LANs, shipped timings (interval {Timings.Interval.TotalMilliseconds:F0} ms, detection {Timings.DetectionTimeout.TotalMilliseconds:F0} ms, lease {Timings.Lease.TotalMilliseconds:F0} ms), module web (256 buckets) on an IPv4 and an IPv6 VIP: TCP 8080 client_ip, TCP 8081 client_ip_port, UDP 5353 client_ip; checkers `port` (tcp) and `flag` (custom), action wait, every {ChaosScenario.CheckerInterval.TotalMilliseconds:F0} ms (timeout 0.9 of it). Load: every client (8 IPv4 + 8 IPv6 sources × 3 ports) asks every {ClientProbe.Period.TotalMilliseconds:F0} ms with a new connection or datagram."));
        md.AppendLine();
        md.AppendLine(Inv($"Result: **{(Passed ? "PASS" : "FAIL")}**{(Interrupted ? " (interrupted)" : string.Empty)}: {Violations.Count} violations, {Leftovers.Count} leftovers{(FinalSettle is { } s ? Inv($", one farm {s.TotalMilliseconds:F0} ms after the last fault") : string.Empty)}. {Stats}."));
        md.AppendLine();
        md.AppendLine("Invariants: (1) never two kernels accepting one bucket while both leases are valid (every node's sets read every 10 ms; \"definite\" = one node's acceptance seen across a read of the other); (2) after the last active fault ends, every bucket has a leased acceptor within D + 2 intervals and every client gets an answer to an ask started within D + 2 intervals + one probe period (proven late only by a kernel read or an unanswered ask that started after D + 2 intervals: the soak's own process can be held up between a listing and its return); (3) one farm at the end; (4) nothing left behind (namespaces, farmd processes, hung checker processes, files, fault tables).");
        md.AppendLine();
        md.AppendLine("| fault | injected | overlapping another | failed to inject/end | mean hold (ms) |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var kind in Enum.GetValues<FaultKind>())
        {
            var of = Faults.Where(f => f.Kind == kind).ToList();
            md.AppendLine(Inv($"| {kind} | {of.Count} | {of.Count(f => f.Overlapping)} | {of.Count(f => f.Error is not null)} | {(of.Count == 0 ? 0 : of.Average(f => ((f.End ?? f.Start) - f.Start).TotalMilliseconds)):F0} |"));
        }

        md.AppendLine(Inv($"| **all** | {Faults.Count} | {Faults.Count(f => f.Overlapping)} | {Faults.Count(f => f.Error is not null)} | |"));
        md.AppendLine();
        Section(md, "Violations", Violations.Select(v => Inv($"{v.At.TotalSeconds:F2} s: **{v.Invariant}**: {v.Detail}")));
        Section(md, "Possible overlaps (both kernels accepted in one round; a hand-over between the two reads could explain it)", PossibleOverlaps, PossibleOverlapCount);
        Section(md, "Client gaps longer than the bound outside any fault window (not counted as violations)", UnexplainedGaps);
        Section(md, "Bounds exceeded only by the soak's own late reads or asks (no miss read or unanswered ask after the bound; not counted as violations)", LateReads);
        Section(md, "Left behind", Leftovers);
        if (Failure is not null)
        {
            md.AppendLine("## Failure").AppendLine().AppendLine("```").AppendLine(Failure).AppendLine("```").AppendLine();
        }

        md.AppendLine("## Faults").AppendLine();
        foreach (var f in Faults)
        {
            md.AppendLine(Inv($"- {f.Start.TotalSeconds:F1} – {(f.End is { } e ? e.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) : "?")} s: {f}{(f.Overlapping ? " (overlapping)" : string.Empty)}{(f.Error is null ? string.Empty : " — " + f.Error)}"));
        }

        return md.ToString();
    }

    private static void Section(StringBuilder md, string title, IEnumerable<string> lines, long? count = null)
    {
        var list = lines.ToList();
        long total = count ?? list.Count;
        md.AppendLine(Inv($"## {title}: {total}")).AppendLine();
        foreach (string line in list.Take(50))
        {
            md.AppendLine("- " + line);
        }

        if (total > 50)
        {
            md.AppendLine(Inv($"- … and {total - 50} more"));
        }

        md.AppendLine();
    }

    private static string Commit()
    {
        try
        {
            var git = CommandRunner.Default.RunUncheckedAsync("git", ["rev-parse", "--short", "HEAD"]).GetAwaiter().GetResult();
            return git.Succeeded ? git.StandardOutput.Trim() : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Who answered client <paramref name="client"/> last before <paramref name="at"/> and first after it: a late client's trail.</summary>
    private static string WhoAnswered(ClientProbe probe, int client, TimeSpan at)
    {
        var (before, after) = probe.AnswersAround(client, at);
        return Inv($" (last answer before: {(before is { } b ? $"{b.Node}, ask of {(b.Started - at).TotalMilliseconds:F0} ms" : "none")}; first after: {(after is { } a ? a.Node : "none")})");
    }
}
