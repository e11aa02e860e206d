namespace Farm.Bench.Chaos;

/// <summary>
/// The soak: builds the farm, starts the kernel sampler and the client probe, injects random faults one at a time or
/// two at once (never more than two nodes out, so three of five keep a majority), then ends every fault, waits for one
/// farm, tears everything down and checks that nothing is left. Everything it saw goes into <see cref="SoakResult"/>.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class SoakRunner(TimeSpan duration, int seed, string outputsFile, Action<string> log)
{
    /// <summary>No new fault for this long after the last one ended: the "served again" window must see a quiet farm.</summary>
    private static readonly TimeSpan QuietGap = TimeSpan.FromSeconds(1.5);

    private readonly Random random = new(seed);

    public async Task<SoakResult> RunAsync(CancellationToken cancellationToken)
    {
        var result = new SoakResult { Seed = seed, Duration = duration, Timings = ChaosScenario.Timings };
        var started = Stopwatch.StartNew();
        FarmFixture? farm = null;
        KernelBucketSampler? sampler = null;
        ClientProbe? probe = null;
        var farmdPids = new HashSet<int>();
        try
        {
            log("building the farm (5 nodes, 2 heartbeat LANs, policy majority, timings 50 ms / 300 ms / 150 ms)");
            farm = await ChaosScenario.StartAsync(cancellationToken);
            result.Root = farm.Root;
            result.Namespaces = [farm.Topology.Bridge.Name, .. farm.Topology.Nodes.Select(n => n.Namespace.Name), .. farm.Topology.Clients.Select(c => c.Namespace.Name)];
            var monitor = new InvariantMonitor(ChaosScenario.Buckets);
            sampler = await KernelBucketSampler.StartAsync([.. farm.Nodes.Select(n => n.Namespace)], ChaosScenario.ModuleName, TimeSpan.FromMilliseconds(10), monitor.OnRound);
            var clock = sampler;
            result.ClockOrigin = TimeProvider.System.GetUtcNow() - sampler.Now;
            probe = ClientProbe.Start(farm.Client, () => clock.Now);
            log($"farm up in {started.Elapsed.TotalSeconds:F0} s; soaking for {duration.TotalMinutes:F0} min (seed {seed}); times count from {result.ClockOrigin:HH:mm:ss.fff} UTC");
            Remember(farm, farmdPids);

            await Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, cancellationToken); // a whole farm in the record first
            var injector = new FaultInjector(farm, sampler, random);
            try
            {
                await InjectAsync(farm, sampler, injector, result, farmdPids, cancellationToken);
            }
            finally
            {
                await EndAllAsync(farm, sampler, injector, result, farmdPids);
            }

            // One farm again, then a last quiet stretch for the "served again" windows.
            var last = sampler.Now;
            try
            {
                await farm.WaitSettledAsync([.. Enumerable.Range(0, farm.NodeCount)], ChaosScenario.ModuleName, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), CancellationToken.None);
                result.FinalSettle = sampler.Now - last;
            }
            catch (TimeoutException e)
            {
                result.Violations.Add(new Violation(sampler.Now, "one farm at the end", FirstLine(e.Message)));
            }

            await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None);
            result.Evaluate(monitor, probe, sampler.Now);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            result.Interrupted = true;
        }
        catch (Exception e)
        {
            result.Failure = e.ToString();
        }
        finally
        {
            if (probe is not null)
            {
                await probe.DisposeAsync();
            }

            if (sampler is not null)
            {
                await sampler.DisposeAsync();
            }

            if (farm is not null)
            {
                Remember(farm, farmdPids);
                if (result.Failure is not null || result.Violations.Count > 0)
                {
                    // Streamed: five daemons' logs of a long soak are hundreds of megabytes; one string of them
                    // (and a copy per use) once took the soak's process out of memory.
                    using (var writer = File.CreateText(outputsFile))
                    {
                        farm.WriteOutputs(writer);
                    }

                    result.OutputsFile = outputsFile;
                }

                await farm.DisposeAsync();
            }

            result.Leftovers.AddRange(await Leftovers.FindAsync(result, farmdPids));
            result.WallTime = started.Elapsed;
        }

        return result;
    }

    private static string FirstLine(string text) => text.IndexOf('\n', StringComparison.Ordinal) is int n and >= 0 ? text[..n] : text;

    private static void Remember(FarmFixture farm, HashSet<int> pids)
    {
        for (int i = 0; i < farm.NodeCount; i++)
        {
            if (farm.IsRunning(i))
            {
                pids.Add(farm.Daemon(i).Id);
            }
        }
    }

    private async Task InjectAsync(FarmFixture farm, KernelBucketSampler sampler, FaultInjector injector, SoakResult result, HashSet<int> pids, CancellationToken cancellationToken)
    {
        var end = sampler.Now + duration;
        var active = new List<(Fault Fault, TimeSpan Due)>();
        var nextStart = sampler.Now;
        bool overlapAllowed = false; // drawn once per fault: may the next one start while this one lasts?
        var kinds = Enum.GetValues<FaultKind>();
        int number = 0;
        while (sampler.Now < end || active.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sampler.ThrowIfFailed();

            // Ends run side by side: a restarted farmd may take long to be ready, and must not hold up the other ends.
            // Each end runs synchronously up to its first await, on this thread (the nft rule state is not shared further).
            foreach (var (fault, _) in active.Where(a => a.Due <= sampler.Now && a.Fault.Ending is null).ToList())
            {
                fault.Ending = EndAsync(injector, sampler, fault, result);
            }

            foreach (var fault in active.Select(a => a.Fault).Where(f => f.Ending is { IsCompleted: true }).ToList())
            {
                await fault.Ending!;
                Remember(farm, pids);
                active.RemoveAll(a => a.Fault == fault);
                if (active.Count == 0)
                {
                    result.QuietPoints.Add(fault.End!.Value);
                    nextStart = sampler.Now + QuietGap + TimeSpan.FromMilliseconds(random.Next(0, 1500));
                }
            }

            bool room = active.Count == 0 || (active.Count == 1 && active[0].Fault.Ending is null && overlapAllowed);
            if (sampler.Now < end && sampler.Now >= nextStart && room)
            {
                var fault = Plan(number + 1, kinds, active.Select(a => a.Fault).ToList(), farm.NodeCount);
                if (fault is not null)
                {
                    number++;
                    try
                    {
                        await injector.StartAsync(fault, cancellationToken);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        fault.Error = "inject: " + FirstLine(e.Message);
                    }

                    fault.Start = sampler.Now;
                    result.Faults.Add(fault);
                    active.Add((fault, fault.Start + fault.Hold));
                    log($"{fault.Start.TotalSeconds,7:F1} s  start {fault}{(fault.Error is null ? string.Empty : " FAILED: " + fault.Error)}");
                    overlapAllowed = active.Count == 1 && random.NextDouble() < 0.3; // about a third of the faults get company
                }

                // A second fault may follow while this one lasts; otherwise the next waits for a quiet farm.
                nextStart = sampler.Now + TimeSpan.FromMilliseconds(random.Next(200, 1500));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, cancellationToken);
        }
    }

    /// <summary>A fault on nodes no other active fault touches, keeping at most two nodes out; null when none fits.</summary>
    private Fault? Plan(int number, FaultKind[] kinds, List<Fault> active, int nodes)
    {
        var kind = kinds[random.Next(kinds.Length)];
        var busy = active.SelectMany(f => f.Nodes).ToHashSet();
        var free = Enumerable.Range(0, nodes).Where(n => !busy.Contains(n)).OrderBy(_ => random.Next()).ToList();
        int room = 2 - busy.Count;
        bool networkBusy = active.Any(f => f.Kind == kind && kind is FaultKind.Partition or FaultKind.LanLoss);
        if (networkBusy || (kind != FaultKind.LanLoss && room < 1))
        {
            return null;
        }

        int[] targets = kind switch
        {
            FaultKind.LanLoss => [],
            FaultKind.Partition => [.. free.Take(random.Next(1, room + 1))],
            _ => [free[0]],
        };
        var hold = kind switch
        {
            FaultKind.Restart => TimeSpan.FromMilliseconds(random.Next(100, 500)),
            FaultKind.AppCrash or FaultKind.HungScript or FaultKind.FlappingChecker => TimeSpan.FromMilliseconds(random.Next(2000, 5000)), // checkers run every second
            _ => TimeSpan.FromMilliseconds(random.Next(1000, 4000)),
        };
        return new Fault { Number = number, Kind = kind, Nodes = targets, Lan = random.Next(2), Hold = hold, Overlapping = active.Count > 0 };
    }

    private async Task EndAsync(FaultInjector injector, KernelBucketSampler sampler, Fault fault, SoakResult result)
    {
        try
        {
            await injector.EndAsync(fault, CancellationToken.None);
        }
        catch (Exception e)
        {
            fault.Error = (fault.Error is null ? string.Empty : fault.Error + "; ") + "end: " + FirstLine(e.Message);
            result.Violations.Add(new Violation(sampler.Now, $"fault #{fault.Number} {fault.Kind} could not be ended", fault.Error));
        }

        fault.End = sampler.Now;
        log($"{fault.End.Value.TotalSeconds,7:F1} s  end   {fault}{(fault.Error is null ? string.Empty : " FAILED: " + fault.Error)}");
    }

    /// <summary>Ends whatever is still in force (also after Ctrl-C or a failure), so the farm can be checked and torn down.</summary>
    private async Task EndAllAsync(FarmFixture farm, KernelBucketSampler sampler, FaultInjector injector, SoakResult result, HashSet<int> pids)
    {
        foreach (var fault in result.Faults.Where(f => f.End is null))
        {
            await (fault.Ending ?? EndAsync(injector, sampler, fault, result));
        }

        try
        {
            injector.ClearRules();
        }
        catch (InvalidOperationException e)
        {
            result.Violations.Add(new Violation(sampler.Now, "removing the fault rules", e.Message));
        }

        Remember(farm, pids);
    }
}
