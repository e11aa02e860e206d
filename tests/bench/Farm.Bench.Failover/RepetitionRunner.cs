namespace Farm.Bench.Failover;

/// <summary>
/// One repetition: settled farm → load and SYN-ACK capture → warmup → failure → takeover (or the outage ends) →
/// restore → settled again → cooldown → figures.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class RepetitionRunner(FarmFixture farm, FailureInjector failures, IReadOnlyDictionary<long, sbyte> nodeOfMac, BenchOptions options, TimeProvider time)
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    private double Ms(long ticks) => ticks * 1000.0 / time.TimestampFrequency;

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    public async Task<RepetitionResult> RunAsync(int repetition, FailureKind kind, int victim, CancellationToken cancellationToken)
    {
        var sources = farm.Client.Addresses4.Take(options.Clients).ToArray();
        int[] owners = await farm.WaitSettledAsync(SettleTimeout, cancellationToken);
        int[] ownerOf = [.. sources.Select(a => owners[farm.BucketOf(a)])];
        bool[] isVictim = [.. ownerOf.Select(o => o == victim)];

        failures.PrepareLinkControl();
        var listenBefore = await Task.WhenAll(farm.Nodes.Select(n => ListenCounters.ReadAsync(n.Namespace)));
        var softnetBefore = SoftnetCounters.Read();
        await using var capture = await SynAckCapture.StartAsync(farm.Client.Namespace, farm.Client.InterfaceName, FailoverScenario.Port, cancellationToken);
        long anchorTicks = time.GetTimestamp();
        long anchorMicros = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        await using var load = ConnectionLoad.Start(
            farm.Client.Namespace, sources, new IPEndPoint(FailoverScenario.Vip, FailoverScenario.Port), options.Period, options.AttemptTimeout, options.MaxLoad, FailoverScenario.NodeCount, time);
        using var harness = HarnessSampler.Start(farm, time);
        long failedAt;
        long restoredAt;
        double injectMs;
        try
        {
            await Task.Delay(options.Warmup, time, cancellationToken);

            // The failure instant is taken just before the call that causes it.
            failedAt = time.GetTimestamp();
            var failedAtUtc = time.GetUtcNow();
            await SetFailedAsync(kind, victim, failed: true, cancellationToken);

            // Wall-clock instant, to line up with the daemons' logs (FARM_BENCH_DUMP).
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    rep {repetition} {kind} of node{victim}: failure injected at {failedAtUtc:HH:mm:ss.fff} UTC"));

            injectMs = Ms(time.GetTimestamp() - failedAt);
            if (kind == FailureKind.Kill)
            {
                // The kernel closes a killed process's sockets (which its peers' crash fast path waits for) only at the
                // end of its teardown; the process is reaped just after: an upper bound of that close.
                await farm.Daemon(victim).WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    rep {repetition} {kind} of node{victim}: farmd reaped {Ms(time.GetTimestamp() - failedAt):F0} ms after SIGKILL"));
                await failures.ForgetKilledAsync(victim);
            }

            // A killed node comes back as soon as every client of it was taken over (or the outage ends); a cut link
            // and a stopped farmd stay so for the whole outage.
            long outageEnd = failedAt + Ticks(options.Outage);
            while (time.GetTimestamp() < outageEnd)
            {
                if (kind == FailureKind.Kill && AllTakenOver(load, isVictim, victim, failedAt))
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
            }

            restoredAt = time.GetTimestamp();
            await SetFailedAsync(kind, victim, failed: false, cancellationToken);

            await farm.WaitSettledAsync(SettleTimeout, cancellationToken);
        }
        finally
        {
            // Whatever happened, the stopped daemon runs again and the link is up before the next step.
            if (kind == FailureKind.Stop)
            {
                try
                {
                    failures.SignalDaemon(victim, stop: false);
                }
                catch (InvalidOperationException)
                {
                    // No daemon.
                }
            }
            else if (kind == FailureKind.LinkDown)
            {
                await failures.SetLinkAsync(victim, up: true, CancellationToken.None);
            }
        }

        double resettleMs = Ms(time.GetTimestamp() - restoredAt);
        await Task.Delay(options.Cooldown, time, cancellationToken);
        await load.StopAsync(cancellationToken);
        harness.Stop();
        var (synAcks, dropped) = await capture.StopAsync(nodeOfMac, cancellationToken);
        var listenAfter = await Task.WhenAll(farm.Nodes.Select(n => ListenCounters.ReadAsync(n.Namespace)));
        ListenCounters[] listen = [.. listenAfter.Zip(listenBefore, (after, before) => after - before)];
        var softnet = SoftnetCounters.Read() - softnetBefore;

        long MicrosToTicks(long micros) => anchorTicks + (long)((micros - anchorMicros) * (time.TimestampFrequency / 1e6));
        return Analyze(repetition, kind, victim, load, sources, ownerOf, isVictim, failedAt, restoredAt, synAcks, dropped, MicrosToTicks, harness, listen, softnet, injectMs, resettleMs);
    }

    // Causes (failed) or ends (!failed) the victim's failure: a kill and a restart, the link down and up, SIGSTOP and SIGCONT.
    private async Task SetFailedAsync(FailureKind kind, int victim, bool failed, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case FailureKind.Kill when failed:
                await failures.KillNodeAsync(victim);
                break;
            case FailureKind.Kill:
                await farm.StartNodeAsync(victim);
                await farm.Daemon(victim).WaitForReadyAsync(FailoverScenario.ReadyTimeout, cancellationToken);
                break;
            case FailureKind.LinkDown:
                await failures.SetLinkAsync(victim, up: !failed, cancellationToken);
                break;
            case FailureKind.Stop:
                failures.SignalDaemon(victim, stop: failed);
                break;
        }
    }

    private static bool AllTakenOver(ConnectionLoad load, bool[] isVictim, int victim, long failedAt)
    {
        for (int c = 0; c < isVictim.Length; c++)
        {
            if (!isVictim[c])
            {
                continue;
            }

            bool taken = false;
            for (int n = 0; n < FailoverScenario.NodeCount && !taken; n++)
            {
                taken = n != victim && load.LastAnswered(c, n) > failedAt;
            }

            if (!taken)
            {
                return false;
            }
        }

        return true;
    }

    private RepetitionResult Analyze(
        int repetition,
        FailureKind kind,
        int victim,
        ConnectionLoad load,
        IPAddress[] sources,
        int[] ownerOf,
        bool[] isVictim,
        long failedAt,
        long restoredAt,
        List<SynAck> synAcks,
        long dropped,
        Func<long, long> microsToTicks,
        HarnessSampler harness,
        ListenCounters[] listen,
        SoftnetCounters softnet,
        double injectMs,
        double resettleMs)
    {
        int clients = sources.Length;
        var attempts = load.Attempts;
        long[] takeover = [.. Enumerable.Repeat(long.MaxValue, clients)];
        bool[] servedAfter = new bool[clients];
        int misrouted = 0;
        long answered = 0;
        var bystanderAnswers = new List<long>[clients];
        for (int c = 0; c < clients; c++)
        {
            bystanderAnswers[c] = [];
        }

        var outcomes = new int[Enum.GetValues<AttemptOutcome>().Length];
        foreach (ref readonly var a in attempts)
        {
            outcomes[(int)a.Outcome]++;
            if (a.Outcome != AttemptOutcome.Answered)
            {
                continue;
            }

            answered++;
            int c = a.Client;
            if (a.Ended <= failedAt)
            {
                misrouted += a.Node != ownerOf[c] ? 1 : 0;
                continue;
            }

            servedAfter[c] = true;
            if (isVictim[c] && a.Node != victim && a.Ended < takeover[c])
            {
                takeover[c] = a.Ended;
            }
            else if (!isVictim[c])
            {
                bystanderAnswers[c].Add(a.Ended);
            }
        }

        // The failed node's last answer before the takeover (a stopped farmd's node serves until its lease lapses).
        long[] lastByVictim = [.. Enumerable.Repeat(failedAt, clients)];
        foreach (ref readonly var a in attempts)
        {
            if (a.Outcome == AttemptOutcome.Answered && a.Node == victim && isVictim[a.Client] && a.Ended > lastByVictim[a.Client] && a.Ended < takeover[a.Client])
            {
                lastByVictim[a.Client] = a.Ended;
            }
        }

        var takeoverMs = new List<double>();
        var outageMs = new List<double>();
        int noTakeover = 0;
        int neverServed = 0;
        int victimClients = 0;
        for (int c = 0; c < clients; c++)
        {
            if (!isVictim[c])
            {
                continue;
            }

            victimClients++;
            neverServed += servedAfter[c] ? 0 : 1;
            if (takeover[c] > restoredAt)
            {
                noTakeover++;
                continue;
            }

            takeoverMs.Add(Ms(takeover[c] - failedAt));
            outageMs.Add(Ms(takeover[c] - lastByVictim[c]));
        }

        // Bystanders: the longest silence of each client of a surviving node from the failure to the end of the load.
        double maxGap = 0;
        double maxGapAt = 0;
        int interrupted = 0;
        for (int c = 0; c < clients; c++)
        {
            if (isVictim[c])
            {
                continue;
            }

            var times = bystanderAnswers[c];
            times.Sort();
            long previous = failedAt;
            long gap = 0;
            long gapStart = failedAt;
            foreach (long t in times.Append(load.Finished))
            {
                if (t - previous > gap)
                {
                    gap = t - previous;
                    gapStart = previous;
                }

                previous = t;
            }

            if (Ms(gap) > maxGap)
            {
                maxGap = Ms(gap);
                maxGapAt = Ms(gapStart - failedAt);
            }

            interrupted += Ms(gap) > options.BystanderGap.TotalMilliseconds ? 1 : 0;
        }

        var notes = new List<string>();
        var timeline = CaptureTimeline.Build(synAcks, sources, microsToTicks, options.AttemptTimeout, time.TimestampFrequency);
        var (refusedBystanders, longestRefusal) = BystanderRefusals(attempts, isVictim, failedAt, options.BystanderGap, timeline, notes);

        // The same on the wire: SYNs of bystanders that got no name in time, in a row (the last attempt timeout before
        // the load's end is left out: those attempts were cut by the stop, not left unanswered).
        long wireEnd = load.Finished - (long)(options.AttemptTimeout.TotalSeconds * time.TimestampFrequency);
        var noName = new WireRuns();
        var noSynAck = new WireRuns();
        for (int c = 0; c < clients; c++)
        {
            if (!isVictim[c])
            {
                noName.Add(timeline.LongestUnansweredRun(c, failedAt, wireEnd, kernelOnly: false), options.BystanderGap, Ms);
                noSynAck.Add(timeline.LongestUnansweredRun(c, failedAt, wireEnd, kernelOnly: true), options.BystanderGap, Ms);
            }
        }

        NoteRefusals(attempts, isVictim, failedAt, restoredAt, notes);

        var (doubles, overlapClients) = AnalyzeSynAcks(sources, isVictim, victim, failedAt, restoredAt, synAcks, microsToTicks, notes);
        NoteStalls(load, timeline, failedAt, restoredAt, notes);
        NoteApps(harness, listen, softnet, failedAt, notes);
        if (load.OtherErrors.Count > 0)
        {
            notes.Add("other socket errors: " + string.Join(", ", load.OtherErrors.Select(e => $"{e.Key} {e.Value}")));
        }

        double seconds = Ms(load.Finished - load.Began) / 1000;
        return new RepetitionResult
        {
            Repetition = repetition,
            Kind = kind,
            Victim = victim,
            VictimClients = victimClients,
            TakeoverMs = takeoverMs,
            OutageMs = outageMs,
            NoTakeover = noTakeover,
            NeverServedAgain = neverServed,
            DoubleAnswered = doubles,
            OverlapClients = overlapClients,
            Misrouted = misrouted,
            BystandersInterrupted = interrupted,
            BystanderMaxGapMs = maxGap,
            BystanderMaxGapAtMs = maxGapAt,
            BystandersRefused = refusedBystanders,
            BystanderMaxRefusalMs = longestRefusal,
            WithoutName = noName,
            WithoutSynAck = noSynAck,
            Outcomes = outcomes,
            Notes = notes,
            AttemptsPerSecond = attempts.Length / seconds,
            AnsweredPerSecond = answered / seconds,
            SkippedSlots = load.SkippedSlots,
            SynAcks = synAcks.Count(s => s.IsSynAck),
            CaptureDropped = dropped,
            InjectMs = injectMs,
            ResettleMs = resettleMs,
        };
    }

    private (int Doubles, int OverlapClients) AnalyzeSynAcks(
        IPAddress[] sources, bool[] isVictim, int victim, long failedAt, long restoredAt, List<SynAck> synAcks, Func<long, long> microsToTicks, List<string> notes)
    {
        // One connection attempt = (client, port, ack = client ISN + 1). A SYN-ACK answers a live attempt when it arrives
        // within the attempt timeout of the attempt's SYN; a later one (the client gave up; the node retransmits because
        // it never got the client's ACK, e.g. its lease lapsed in between) is stale and left out of the answer
        // sequences, as is a repeat from the same node. Answered by two nodes = live SYN-ACKs from two MACs.
        var synAt = new Dictionary<(uint, ushort, uint), long>();
        var nodesOf = new Dictionary<(uint, ushort, uint), sbyte>();
        var counted = new HashSet<(uint, ushort, uint)>();
        var answers = new List<SynAck>();
        long lifetime = (long)options.AttemptTimeout.TotalMicroseconds;
        int retransmitted = 0;
        int stale = 0;
        foreach (var s in synAcks.OrderBy(s => s.Micros))
        {
            var key = (s.Client, s.Port, s.Ack);
            if (s.IsSyn)
            {
                synAt[key] = s.Micros;
                continue;
            }

            if (s.IsName)
            {
                continue;
            }

            if (!synAt.TryGetValue(key, out long sentAt) || s.Micros - sentAt > lifetime)
            {
                stale++;
                continue;
            }

            if (nodesOf.TryAdd(key, s.Node))
            {
                answers.Add(s);
            }
            else if (nodesOf[key] != s.Node)
            {
                if (counted.Add(key) && counted.Count <= 3)
                {
                    long first = synAcks.Where(o => o.IsSynAck && (o.Client, o.Port, o.Ack) == key).Min(o => o.Micros);
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"attempt {new IPAddress(BinaryPrimitives.ReverseEndianness(s.Client))}:{s.Port} (SYN at {Ms(microsToTicks(sentAt) - failedAt):+0;-0} ms) answered by node{nodesOf[key]} at {Ms(microsToTicks(first) - failedAt):+0;-0} ms and by node{s.Node} at {Ms(microsToTicks(s.Micros) - failedAt):+0;-0} ms (restore at +{Ms(restoredAt - failedAt):F0} ms)"));
                }

                answers.Add(s);
            }
            else
            {
                retransmitted++;
            }
        }

        if (stale > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{stale} stale SYN-ACKs (more than {options.AttemptTimeout.TotalMilliseconds:0} ms after the attempt's SYN, or for a SYN before the capture) left out"));
        }

        if (retransmitted > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{retransmitted} SYN-ACK retransmissions (same node, same attempt) left out of the answer sequences"));
        }

        var indexOf = new Dictionary<uint, int>();
        for (int c = 0; c < sources.Length; c++)
        {
            indexOf[BinaryPrimitives.ReadUInt32BigEndian(sources[c].GetAddressBytes())] = c;
        }

        var perClient = answers.Where(s => indexOf.ContainsKey(s.Client)).GroupBy(s => indexOf[s.Client]);
        long window = (long)options.FlipWindow.TotalMicroseconds;
        int overlap = 0;
        foreach (var group in perClient)
        {
            // Runs of consecutive SYN-ACKs from one node, in capture order.
            var runs = new List<(sbyte Node, long First, long Last)>();
            foreach (var s in group.OrderBy(s => s.Micros))
            {
                if (runs.Count > 0 && runs[^1].Node == s.Node)
                {
                    runs[^1] = (s.Node, runs[^1].First, s.Micros);
                }
                else
                {
                    runs.Add((s.Node, s.Micros, s.Micros));
                }
            }

            bool flips = false;
            for (int i = 1; i + 1 < runs.Count && !flips; i++)
            {
                flips = runs[i + 1].First - runs[i - 1].Last <= window;
            }

            // The failed node answering after another node took its client over, before it was restored.
            bool late = false;
            if (isVictim[group.Key])
            {
                long takenAt = long.MaxValue;
                foreach (var s in group.OrderBy(s => s.Micros))
                {
                    long at = microsToTicks(s.Micros);
                    if (at > failedAt && s.Node != victim && takenAt == long.MaxValue)
                    {
                        takenAt = at;
                    }
                    else if (s.Node == victim && at > takenAt && at < restoredAt)
                    {
                        late = true;
                    }
                }
            }

            if (flips || late)
            {
                overlap++;
                if (overlap <= 3)
                {
                    string Rel(long micros) => Ms(microsToTicks(micros) - failedAt).ToString("+0;-0", CultureInfo.InvariantCulture);
                    notes.Add($"{sources[group.Key]} ({(flips ? "two changes within the window" : "failed node answered after the takeover")}): " +
                        string.Join(" ", runs.Select(r => $"node{r.Node}[{Rel(r.First)}..{Rel(r.Last)} ms]")));
                }
            }
        }

        return (counted.Count, overlap);
    }    /// <summary>
    /// Bystanders as the clients saw it: the longest run of failed attempts of each client of a surviving node after the
    /// failure, from the start of its first failed attempt to the start of the next answered one. Unlike the silence
    /// between answers, a stall of the load generator itself (no attempts made) does not count.
    /// </summary>
    private (int Clients, double LongestMs) BystanderRefusals(
        ReadOnlySpan<ConnectionAttempt> attempts, bool[] isVictim, long failedAt, TimeSpan bound, CaptureTimeline timeline, List<string> notes)
    {
        var byClient = new Dictionary<int, List<ConnectionAttempt>>();
        foreach (ref readonly var a in attempts)
        {
            if (!isVictim[a.Client] && a.Started > failedAt)
            {
                if (!byClient.TryGetValue(a.Client, out var list))
                {
                    byClient[a.Client] = list = [];
                }

                list.Add(a);
            }
        }

        int clients = 0;
        double longest = 0;
        // For diagnosis: how the attempts of the runs over the bound ended, when the runs began, and which node answered
        // the client just before and just after each run.
        var outcomes = new int[Enum.GetValues<AttemptOutcome>().Length];
        var around = new Dictionary<(sbyte Before, sbyte After), int>();
        double firstRun = double.MaxValue;
        double lastRun = double.MinValue;
        int connectedTimedOut = 0;
        var captured = new CaptureTimeline.WindowCounts(FailoverScenario.NodeCount);
        foreach (var list in byClient.Values)
        {
            list.Sort((x, y) => x.Started.CompareTo(y.Started));
            int failingFrom = -1;
            double worst = 0;
            for (int i = 0; i < list.Count; i++)
            {
                if (list[i].Outcome != AttemptOutcome.Answered)
                {
                    failingFrom = failingFrom < 0 ? i : failingFrom;
                    continue;
                }

                if (failingFrom < 0)
                {
                    continue;
                }

                double run = Ms(list[i].Started - list[failingFrom].Started);
                worst = Math.Max(worst, run);
                if (run > bound.TotalMilliseconds)
                {
                    for (int k = failingFrom; k < i; k++)
                    {
                        outcomes[(int)list[k].Outcome]++;
                        connectedTimedOut += list[k].Outcome == AttemptOutcome.TimedOut && list[k].Connected != 0 ? 1 : 0;
                    }

                    sbyte before = failingFrom > 0 ? list[failingFrom - 1].Node : (sbyte)-1;
                    around[(before, list[i].Node)] = around.GetValueOrDefault((before, list[i].Node)) + 1;
                    firstRun = Math.Min(firstRun, Ms(list[failingFrom].Started - failedAt));
                    lastRun = Math.Max(lastRun, Ms(list[failingFrom].Started - failedAt));
                    timeline.Count(list[i].Client, list[failingFrom].Started, list[i].Started, captured);
                }

                failingFrom = -1;
            }

            clients += worst > bound.TotalMilliseconds ? 1 : 0;
            longest = Math.Max(longest, worst);
        }

        if (around.Count > 0)
        {
            static string Node(sbyte n) => n < 0 ? "none" : FailoverScenario.NodeName(n);
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"others failing in a row > {bound.TotalMilliseconds:F0} ms: runs began +{firstRun:F0} to +{lastRun:F0} ms; their attempts refused {outcomes[(int)AttemptOutcome.Refused]}, timed out {outcomes[(int)AttemptOutcome.TimedOut]} ({connectedTimedOut} of them connected: handshake done, no name read), broken {outcomes[(int)AttemptOutcome.Broken]}, failed {outcomes[(int)AttemptOutcome.Failed]}; answered before → after: ")
                + string.Join(", ", around.OrderByDescending(p => p.Value).Select(p => $"{Node(p.Key.Before)} → {Node(p.Key.After)} {p.Value}"))
                + "; " + DescribeCapture(captured, timeline, failedAt));
        }

        return (clients, longest);
    }

    /// <summary>
    /// What the capture in the client namespace holds for the bystanders' runs of failed attempts (each from its first
    /// failed attempt's start to the start of the next answered one): the SYNs sent in the runs, the SYN-ACKs answering
    /// them (a node's kernel) by source MAC and the names (its app), whenever they came; every SYN-ACK to those clients
    /// during the runs; and the longest gap between SYN-ACKs to any client in the repetition.
    /// </summary>
    private string DescribeCapture(CaptureTimeline.WindowCounts c, CaptureTimeline timeline, long failedAt)
    {
        var byNode = Enumerable.Range(0, c.ByNode.Length).Where(n => c.ByNode[n] > 0).Select(n => $"{FailoverScenario.NodeName(n)} {c.ByNode[n]}");
        if (c.UnknownMac > 0)
        {
            byNode = byNode.Append($"unknown MAC {c.UnknownMac}");
        }

        string nodes = c.SynAcks > 0 ? " from " + string.Join(", ", byNode) : string.Empty;
        double timeout = options.AttemptTimeout.TotalMilliseconds;
        var (gap, gapFrom) = timeline.LongestSynAckGap;
        return string.Create(CultureInfo.InvariantCulture,
            $"captured in the client namespace: the runs' SYNs {c.Syns}, SYN-ACKs to them {c.SynAcks}{nodes} ({c.LiveSynAcks} within {timeout:F0} ms; runs with one: {c.WindowsWithSynAck} of {c.Windows}), names to them {c.Names} ({c.LiveNames} within {timeout:F0} ms); SYN-ACKs to the runs' clients during the runs, for any attempt, {c.AnySynAcks}; longest gap between SYN-ACKs to any client {Ms(gap):F0} ms from {Ms(gapFrom - failedAt):+0;-0} ms");
    }

    /// <summary>
    /// For diagnosis: stalls of the load generator and silences on the wire. The pacer's wake-ups (send side); the ends of
    /// attempts of any outcome (receive side: answers, refusals and the pacer's aborts are all handled on the thread pool,
    /// so a long gap there is the load generator's, not the farm's); answered attempts; the wait for the name once connected
    /// (the app's accept and answer and the load's read, all on this process's thread pool); captured SYNs and SYN-ACKs.
    /// </summary>
    private void NoteStalls(ConnectionLoad load, CaptureTimeline timeline, long failedAt, long restoredAt, List<string> notes)
    {
        var ended = new List<long>();
        var answered = new List<long>();
        (long Length, long From) nameWait = (0, 0);
        foreach (ref readonly var a in load.Attempts)
        {
            ended.Add(a.Ended);
            if (a.Outcome == AttemptOutcome.Answered)
            {
                answered.Add(a.Ended);
                if (a.Connected != 0 && a.Ended - a.Connected > nameWait.Length)
                {
                    nameWait = (a.Ended - a.Connected, a.Connected);
                }
            }
        }

        ended.Sort();
        answered.Sort();
        string Gap((long Length, long From) gap) => string.Create(CultureInfo.InvariantCulture, $"{Ms(gap.Length):F0} ms from {Ms(gap.From - failedAt):+0;-0} ms");
        var (stall, stallEnded) = load.LongestStall;
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"longest pacer stall {Ms(stall):F0} ms, ended at {Ms(stallEnded - failedAt):+0;-0} ms; longest gaps between two ends of attempts (receive side) {Gap(CaptureTimeline.LongestGap(ended))}, two answers {Gap(CaptureTimeline.LongestGap(answered))}, two SYNs captured {Gap(timeline.LongestSynGap)}, two SYN-ACKs captured {Gap(timeline.LongestSynAckGap)}; longest waits of one attempt, SYN → SYN-ACK captured {Gap(timeline.LongestSynToSynAck)}, SYN-ACK → name captured {Gap(timeline.LongestSynAckToName)}, connect → name read (answered) {Gap(nameWait)}; restore at +{Ms(restoredAt - failedAt):F0} ms"));
    }

    /// <summary>
    /// For diagnosis: per node, the longest time without a new accept by its app; how long work waited for this process's
    /// thread pool; the kernel's listener drops in each node namespace over the repetition (connections an app did not
    /// take in time, which the client sees as timeouts); and the machine's receive backlog drops and softirq squeezes.
    /// </summary>
    private void NoteApps(HarnessSampler harness, ListenCounters[] listen, SoftnetCounters softnet, long failedAt, List<string> notes)
    {
        var gaps = harness.LongestAcceptGap.Select((g, n) => string.Create(CultureInfo.InvariantCulture, $"{FailoverScenario.NodeName(n)} {Ms(g.Length):F0} ms from {Ms(g.From - failedAt):+0;-0} ms"));
        var (stall, stallFrom) = harness.LongestWakeGap;
        var (wait, waitFrom) = harness.LongestPoolWait;
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"apps (in this process): longest time without a new accept {string.Join(", ", gaps)} (the sampler's own longest stall {Ms(stall):F0} ms from {Ms(stallFrom - failedAt):+0;-0} ms); longest wait of a work item for the thread pool {Ms(wait):F0} ms from {Ms(waitFrom - failedAt):+0;-0} ms, most queued {harness.MostPending}; listen queue overflows / listener drops in the node namespaces over the repetition: {string.Join(", ", listen.Select((l, n) => $"{FailoverScenario.NodeName(n)} {l.Overflows} / {l.Drops}"))}; the machine's receive backlog drops {softnet.Dropped}, softirq squeezes {softnet.Squeezed}"));
    }

    /// <summary>
    /// For diagnosis: the attempts refused (a RST answered the SYN) after the failure, the failed node's clients apart
    /// from the others, with when they began relative to the restore.
    /// </summary>
    private void NoteRefusals(ReadOnlySpan<ConnectionAttempt> attempts, bool[] isVictim, long failedAt, long restoredAt, List<string> notes)
    {
        foreach (bool victims in new[] { true, false })
        {
            int count = 0;
            double first = double.MaxValue;
            double last = double.MinValue;
            foreach (ref readonly var a in attempts)
            {
                if (a.Outcome == AttemptOutcome.Refused && a.Started > failedAt && isVictim[a.Client] == victims)
                {
                    count++;
                    first = Math.Min(first, Ms(a.Started - restoredAt));
                    last = Math.Max(last, Ms(a.Started - restoredAt));
                }
            }

            if (count > 0)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"refused attempts of {(victims ? "the failed node's clients" : "the other clients")}: {count}, begun {first:+0;-0} to {last:+0;-0} ms from the restore"));
            }
        }
    }


}
