using Farm.Bench.Failover;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Failover benchmark: three real farmd with their data plane in network namespaces, 200 client addresses each opening a
// new TCP connection to the VIP every 10 ms. Fails one node (kill -9 of farmd + app, veth link down, SIGSTOP of farmd)
// and measures, for the clients of that node, the time until another node answers them; counts connections answered by
// two nodes and clients never served again. Prints the tables and writes them to a results file.
var culture = CultureInfo.InvariantCulture;
if (!OperatingSystem.IsLinux())
{
    Console.Error.WriteLine("This benchmark needs Linux (network namespaces, nftables).");
    return 2;
}

if (args.Contains("-h") || args.Contains("--help"))
{
    Console.WriteLine("usage: Farm.Bench.Failover [--repetitions N=10] [--timing default|1s|fast|both=default] (both = 1s and default) [--kinds kill,link,stop]\n" +
                      "                           [--policy majority|witness=majority] [--clients N=200] [--period-ms MS=10] [--hogs N=0] (busy loops beside the farm)\n" +
                      "                           [--farmd PATH] (a farmd.dll run with dotnet, or a published farmd; default: the build output next to this program)\n" +
                      "                           [--out FILE=tests/bench/results/failover.md]");
    return 0;
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

var options = new BenchOptions();
try
{
    options = options with
    {
        Repetitions = int.Parse(Option("--repetitions") ?? "10", culture),
        Timings = (Option("--timing") ?? "default") switch
        {
            "default" => [TimingSettings.Default],
            "fast" => [TimingSettings.Fast],
            "1s" => [TimingSettings.OneSecond],
            "both" => [TimingSettings.OneSecond, TimingSettings.Default],
            var other => throw new FormatException($"unknown timing '{other}'"),
        },
        Kinds = [.. (Option("--kinds") ?? "kill,link,stop").Split(',').Select(k => k switch
        {
            "kill" => FailureKind.Kill,
            "link" => FailureKind.LinkDown,
            "stop" => FailureKind.Stop,
            _ => throw new FormatException($"unknown failure kind '{k}'"),
        })],
        Policy = (Option("--policy") ?? "majority") switch
        {
            "majority" => Farm.Core.Config.SplitBrainPolicy.Majority,
            "witness" => Farm.Core.Config.SplitBrainPolicy.Witness,
            var other => throw new FormatException($"unknown policy '{other}'"),
        },
        Clients = int.Parse(Option("--clients") ?? "200", culture),
        Period = TimeSpan.FromMilliseconds(double.Parse(Option("--period-ms") ?? "10", culture)),
        OutFile = Option("--out") ?? options.OutFile,
        Hogs = int.Parse(Option("--hogs") ?? "0", culture),
        FarmdPath = Option("--farmd") is { } farmd ? Path.GetFullPath(farmd) : options.FarmdPath,
    };
}
catch (FormatException e)
{
    Console.Error.WriteLine($"bad arguments: {e.Message} (see --help)");
    return 2;
}

if (options.Repetitions < 1 || options.Clients is < 1 or > 240 || options.Period < TimeSpan.FromMilliseconds(1) || options.Hogs is < 0 or > 16)
{
    Console.Error.WriteLine("--repetitions >= 1, --clients 1..240, --period-ms >= 1, --hogs 0..16");
    return 2;
}

if (await NamespaceSupport.GetMissingRequirementAsync(needNft: true) is { } missing)
{
    Console.Error.WriteLine(missing);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // unwind: every namespace, daemon and tcpdump is disposed on the way out
    cancel.Cancel();
};

var time = TimeProvider.System;
long began = time.GetTimestamp();
string loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[0];
var report = new StringBuilder();
string command = "tests/bench/failover/run.sh" + (args.Length > 0 ? " " + string.Join(' ', args) : string.Empty);
report.AppendLine("# Failover: time from a node failure to the takeover of its clients");
report.AppendLine();
report.AppendLine(culture, $"- Command: `{command}`");
report.AppendLine(culture, $"- Date (UTC): {time.GetUtcNow():yyyy-MM-dd HH:mm}; machine: {Machine()}; 1-minute load average before the run: {loadBefore}");
report.AppendLine(culture, $"- Farm: 3 farmd (real processes, data plane on) in node namespaces on one bridge, split-brain policy `{(options.Policy == Farm.Core.Config.SplitBrainPolicy.Witness ? "witness` (an address in the client namespace)" : "majority`")}, module `web`: VIP 198.18.0.100, TCP {FailoverScenario.Port} by client address, 256 buckets, drain {FailoverScenario.Drain.TotalSeconds:0} s. App: `NameServer` in each node namespace (answers with the node's name).");
report.AppendLine(culture, $"- Load: {options.Clients} client addresses in one client namespace, each opens a new TCP connection every {options.Period.TotalMilliseconds:0} ms (target {options.Clients / options.Period.TotalSeconds:F0}/s), reads the name, resets the connection; an attempt without answer is abandoned after {options.AttemptTimeout.TotalMilliseconds:0} ms.");
report.AppendLine(culture, $"- Clients of the other (surviving) nodes, three measures: *silent* = longest time between two answers the load's sockets read after the failure (a stall of the load generator itself counts); *failing in a row* = longest run of attempts that ended without an answer, from the first one's start to the next answered one's start (attempts not made do not count; answers that came in time but that the load's sockets handled late do); *no name on the wire* = longest run of SYNs seen leaving the client namespace that got no name back on its wire within the attempt timeout (the farm's and the node app's part, not the load's sockets; stricter than the sockets, which count a name read after the timeout when the pacer aborted the attempt late); *no SYN-ACK* = the same with the node kernel's SYN-ACK as the answer (the farm's filter and lease alone, without the app). Both are given as *proven* (from a run's first unanswered SYN to its last: the nodes were dark at both) and *up to* (to the next SYN answered in time: when the load generator falls behind and a client asks rarely, one dropped SYN makes a long upper bound). The apps accept and send the name on a thread of their own per listener, not on this process's thread pool.");
report.AppendLine(culture, $"- Capture: tcpdump on the client namespace's interface records the clients' SYNs, the SYN-ACKs that come back (from the node's kernel) and the first data (the name, from the node's app), with kernel timestamps; the Ethernet source names the node. A SYN there was sent by the client's kernel, a SYN-ACK or name there reached it: whether its TCP stack and the load's sockets then handled it in time is not seen (a timed-out attempt that connected had its SYN-ACK handled). For the runs of failed attempts of other nodes' clients (each from its first failed attempt's start to the next answered one's start) the notes count the SYNs sent in the runs, the SYN-ACKs and names answering them (whenever they came, and how many within the attempt timeout) and every SYN-ACK to the runs' clients during the runs. Per repetition they give the longest gaps (+ms from the failure, the load's clock) between two SYNs, two SYN-ACKs (any client), two ends of attempts of any outcome (the load's receive side: answers, refusals and timeouts all complete on the thread pool) and two answers; the longest SYN → SYN-ACK and SYN-ACK → name on the wire and connect → name at the socket; and, sampled every millisecond on a thread of its own, the longest wait of a work item for this process's thread pool (where the apps accept and answer and the load's connects and reads complete), per node the longest time without a new accept by its app (the apps run in this process), the kernel's listen queue overflows and listener drops in each node namespace (connections an app did not take in time, dropped silently: the client sees a timeout), and the machine's receive backlog drops and softirq squeezes (/proc/net/softnet_stat).");
report.AppendLine(culture, $"- Each repetition: settled farm, {options.Warmup.TotalSeconds:0} s of load, failure of one node (node0, node1, node2 in turn), outage up to {options.Outage.TotalSeconds:0} s (a killed node is restarted as soon as all its clients were taken over), restore, wait until the farm is settled with all three nodes, {options.Cooldown.TotalSeconds:0} s more load.");
report.AppendLine(culture, $"- farmd: `{options.FarmdPath}` ({(options.FarmdPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? "the build output, run with dotnet: compiled by the JIT as it runs" : "a published farmd: tests/bench/failover/run.sh publishes it with installer/package.sh's farmd target, as the .deb ships it, self-contained and ReadyToRun")}). The harness (load, apps, capture) runs at farmd's nice value, {Farm.Core.Scheduling.FarmdPriority.Nice}: its clients stand for other machines, and each app for one node's own cores.");
if (options.Hogs > 0)
{
    report.AppendLine(culture, $"- Beside the farm: {options.Hogs} busy loops (`sh -c 'while :; do :; done'`, normal priority) for the whole run.");
}

report.AppendLine();

// The busy loops start before the harness raises its priority: they keep the normal one.
using var hogs = BusyLoops.Start(options.Hogs);
using var priority = HarnessPriority.AtFarmdPriority();

foreach (var timing in options.Timings)
{
    Console.WriteLine($"== timing {timing.Name}: {timing.Describe()}");
    var results = new List<RepetitionResult>();
    await using (var farm = await FailoverScenario.StartAsync(timing, options.Policy, options.Clients, options.FarmdPath, cancel.Token))
    {
        await using var failures = new FailureInjector(farm);
        // FARM_BENCH_DUMP=FILE: keep every daemon's output of this timing (for diagnosis).
        using var dump = Environment.GetEnvironmentVariable("FARM_BENCH_DUMP") is { Length: > 0 } dumpFile
            ? new Disposer(() => File.WriteAllText(dumpFile + "." + timing.Name, farm.Outputs()))
            : null;
        var runner = new RepetitionRunner(farm, failures, await farm.ReadMacsAsync(cancel.Token), options, time);
        for (int rep = 1; rep <= options.Repetitions; rep++)
        {
            foreach (var kind in options.Kinds)
            {
                int victim = (rep - 1) % FailoverScenario.NodeCount;
                var r = await runner.RunAsync(rep, kind, victim, cancel.Token);
                results.Add(r);
                foreach (string note in r.Notes)
                {
                    Console.WriteLine("    " + note);
                }

                var t = r.TakeoverMs.Order().ToList();
                Console.WriteLine(string.Create(culture,
                    $"{timing.Name} rep {rep} {FailoverReport.KindName(kind)} of {FailoverScenario.NodeName(victim)}: {r.VictimClients} clients, takeover p50 {FailoverReport.Percentile(t, 0.5):F0} ms max {(t.Count > 0 ? t[^1] : double.NaN):F0} ms, " +
                    $"two nodes {r.DoubleAnswered}/{r.OverlapClients}, never served {r.NeverServedAgain}, no takeover {r.NoTakeover}, others silent {r.BystandersInterrupted} (failing in a row {r.BystandersRefused}, no name on the wire {r.WithoutName.Proven}/{r.WithoutName.Upper}, no SYN-ACK {r.WithoutSynAck.Proven}/{r.WithoutSynAck.Upper}), {r.AttemptsPerSecond:F0} attempts/s"));
            }
        }
    }

    report.AppendLine(culture, $"## Timing `{timing.Name}`: {timing.Describe()}");
    report.AppendLine();
    FailoverReport.AppendSummary(report, results, options);
    report.AppendLine();
    report.AppendLine("<details><summary>Every repetition</summary>");
    report.AppendLine();
    FailoverReport.AppendDetails(report, results);
    report.AppendLine();
    FailoverReport.AppendNotes(report, results);
    report.AppendLine();
    report.AppendLine("</details>");
    report.AppendLine();
}

report.AppendLine(culture, $"Total run time {time.GetElapsedTime(began).TotalMinutes:F1} min; 1-minute load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]}.");
Console.WriteLine();
Console.Write(report);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.OutFile))!);
await File.WriteAllTextAsync(options.OutFile, report.ToString(), cancel.Token);
Console.WriteLine($"written to {options.OutFile}");
return 0;

static string Machine()
{
    string model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
    string kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
    return $"{model}, {Environment.ProcessorCount} cores, Linux {kernel}, .NET {Environment.Version}";
}

/// <summary>Runs an action on dispose.</summary>
internal sealed class Disposer(Action action) : IDisposable
{
    public void Dispose() => action();
}
