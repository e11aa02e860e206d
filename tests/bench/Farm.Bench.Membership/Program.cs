using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Farm.Bench.Membership;
using Farm.Core.Config;
using Farm.Protocol.V1;
using Farm.Testing.Network;

// Membership benchmarks with three real farmd processes on loopback. Prints figures and writes them to a results file.
//   detect [--runs N] [--out FILE]                       kill -9 one node; time until both survivors agree on a view without it
//   soak [--minutes M] [--gc-ms MS] [--hogs N] [--out FILE]  no false positive under CPU saturation and forced full GCs
//   sim [--sizes 3,8,16,64] [--seeds N] [--measure S] [--notice-ms MS] [--out FILE]  the simulation at scale (virtual time)
// All take --interval-ms, --detection-ms and --lease-ms (default 100 / 1000 / 600: the benchmark's own default, the
// timings its first recorded runs used; the cluster file defaults are 50 / 300 / 150 ms, the default of sim).
var culture = CultureInfo.InvariantCulture;
bool help = args.Length == 0 || args.Contains("-h") || args.Contains("--help"); // the scripts pass their subcommand first
if (help || args[0] is not ("detect" or "soak" or "hostile" or "rtt" or "sim"))
{
    Console.WriteLine("usage: Farm.Bench.Membership detect [--runs N=10] [--out FILE] [timing]\n" +
                      "       Farm.Bench.Membership soak [--minutes M=5] [--gc-ms MS=200] [--hogs N=4] [--out FILE] [timing]\n" +
                      "       Farm.Bench.Membership hostile [--requests N=1000] [--oversized N=1000] [--expansion N=5] [--label after] [--legacy] [--out FILE] [timing]\n" +
                      "       Farm.Bench.Membership rtt [--warmup S=60] [--measure S=30] [--hogs N=2] [--label after] [--legacy] [--out FILE] [timing]\n" +
                      "       Farm.Bench.Membership sim [--sizes 3,8,16,64] [--seeds N=5] [--measure S=5] [--notice-ms MS=100] [--out FILE] [timing, default 50 / 300 / 150]\n" +
                      "         (FARM_BENCH_FARMD=path/to/farmd.dll measures another build; --legacy seals its protocol 1 envelopes)\n" +
                      "timing: --interval-ms 100 --detection-ms 1000 --lease-ms 600 (this benchmark's defaults; the cluster file's are 50 / 300 / 150)");
    return help ? 0 : 2;
}

string Option(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var time = TimeProvider.System;
double Ms(long from, long to) => (to - from) * 1000.0 / time.TimestampFrequency;
string outFile = Option("--out", args[0] switch
{
    "detect" => "tests/bench/results/membership-detect.md",
    "hostile" => $"tests/bench/results/hostile-{Option("--label", "after")}.md",
    "rtt" => $"tests/bench/results/rtt-{Option("--label", "after")}.md",
    "sim" => "tests/bench/results/scale-sim.md",
    _ => "tests/bench/results/membership-soak.md",
});
bool sim = args[0] == "sim"; // the simulation runs at the cluster file's defaults unless told otherwise
var report = new StringBuilder();
var heartbeat = new HeartbeatOptions
{
    Interval = TimeSpan.FromMilliseconds(int.Parse(Option("--interval-ms", sim ? "50" : "100"), culture)),
    DetectionTimeout = TimeSpan.FromMilliseconds(int.Parse(Option("--detection-ms", sim ? "300" : "1000"), culture)),
    Lease = TimeSpan.FromMilliseconds(int.Parse(Option("--lease-ms", sim ? "150" : "600"), culture)),
};
string timing = $"heartbeat interval {heartbeat.Interval.TotalMilliseconds} ms, detection timeout {heartbeat.DetectionTimeout.TotalMilliseconds} ms, lease {heartbeat.Lease.TotalMilliseconds} ms";
string timingArgs = $"--interval-ms {heartbeat.Interval.TotalMilliseconds} --detection-ms {heartbeat.DetectionTimeout.TotalMilliseconds} --lease-ms {heartbeat.Lease.TotalMilliseconds}";
string machine = $"{Environment.ProcessorCount} cores, {RuntimeInformationText()}";

if (sim)
{
    var sizes = Option("--sizes", "3,8,16,64").Split(',').Select(n => int.Parse(n, culture)).ToList();
    int seeds = int.Parse(Option("--seeds", "5"), culture);
    int measure = int.Parse(Option("--measure", "5"), culture);
    int noticeMs = int.Parse(Option("--notice-ms", "100"), culture);
    string command = $"tests/bench/scale/sim.sh --sizes {string.Join(',', sizes)} --seeds {seeds} --measure {measure} --notice-ms {noticeMs} {timingArgs}";
    report.AppendLine("# Membership at scale: the simulation");
    report.AppendLine();
    report.Append(SimScaleBench.Run(sizes, seeds, TimeSpan.FromSeconds(measure), TimeSpan.FromMilliseconds(noticeMs), heartbeat, command, machine));
}
else if (args[0] == "rtt")
{
    report.AppendLine("# Heartbeat round trips and farmd CPU per node");
    report.AppendLine();
    report.Append(await RoundTripBench.RunAsync(
        heartbeat, int.Parse(Option("--warmup", "60"), culture), int.Parse(Option("--measure", "30"), culture), int.Parse(Option("--hogs", "2"), culture),
        args.Contains("--legacy"), Option("--label", "after"), machine, cancel.Token));
}
else if (args[0] == "hostile")
{
    report.AppendLine("# Hostile requests: what they cost the node they hit");
    report.AppendLine();
    report.Append(await HostileBench.RunAsync(
        heartbeat, int.Parse(Option("--requests", "1000"), culture), int.Parse(Option("--oversized", "1000"), culture), int.Parse(Option("--expansion", "5"), culture), args.Contains("--legacy"),
        Option("--label", "after"), machine, cancel.Token));
}
else if (args[0] == "detect")
{
    int runs = int.Parse(Option("--runs", "10"), culture);
    var latencies = new List<double>();
    for (int run = 1; run <= runs; run++)
    {
        await using var farm = await LoopbackFarm.StartAsync(LoopbackPorts.FreeOn(3, consecutive: 2), heartbeat, new Dictionary<string, string>(), cancel.Token);
        var survivors = farm.Nodes.Take(2).ToList();
        var victim = farm.Nodes[2];
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token);
        var seen = survivors.Select(_ => new List<(long At, long Epoch, bool VictimInView)>()).ToList();
        var watchers = survivors.Select((node, i) => Task.Run(async () =>
        {
            using var admin = node.CreateAdminClient();
            await foreach (var status in admin.WatchStatusAsync(watchStop.Token))
            {
                long now = time.GetTimestamp();
                bool inView = status.Nodes.Any(n => n.Name == victim.Node && n.InView);
                lock (seen[i])
                {
                    seen[i].Add((now, status.InstalledEpoch, inView));
                }
            }
        })).ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(500), time, cancel.Token); // watchers connected, first status in

        long killedAt = time.GetTimestamp();
        victim.Kill();
        double? agreedMs = null;
        var deadline = killedAt + (10 * time.TimestampFrequency);
        while (agreedMs is null && time.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), time, cancel.Token);
            var firsts = seen.Select(list => { lock (list) { return list.Where(s => s.At >= killedAt && !s.VictimInView).Select(s => ((long, long)?)(s.At, s.Epoch)).FirstOrDefault(); } }).ToList();
            if (firsts.All(f => f is not null) && firsts.Select(f => f!.Value.Item2).Distinct().Count() == 1)
            {
                agreedMs = Ms(killedAt, firsts.Max(f => f!.Value.Item1));
            }
        }

        await watchStop.CancelAsync();
        await Task.WhenAll(watchers.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default)));
        if (agreedMs is null)
        {
            Console.WriteLine($"run {run}: survivors did not agree on a view without {victim.Node} within 10 s");
            return 1;
        }

        latencies.Add(agreedMs.Value);
        Console.WriteLine($"run {run}: survivors agree on a view without {victim.Node} {agreedMs.Value:F0} ms after kill -9");
    }

    latencies.Sort();
    double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
    report.AppendLine(culture, $"# Membership: failure detection with real farmd processes");
    report.AppendLine();
    report.AppendLine(culture, $"Command: `tests/bench/membership/detect.sh --runs {runs} {timingArgs}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {machine}).");
    report.AppendLine(culture, $"Settings: 3 farmd on 127.0.0.1-3, {timing}.");
    report.AppendLine("Measured: from `kill -9` of n3 to the moment both survivors' WatchStatus streams show the same epoch without n3");
    report.AppendLine("(WatchStatus sends at most one update per 100 ms, so figures include up to 100 ms of reporting delay).");
    report.AppendLine();
    report.AppendLine("| runs | p50 | p99 | max | min | target (detection timeout + 200 ms) |");
    report.AppendLine("|---:|---:|---:|---:|---:|---:|");
    report.AppendLine(culture, $"| {runs} | {P(0.5):F0} ms | {P(0.99):F0} ms | {latencies[^1]:F0} ms | {latencies[0]:F0} ms | {(heartbeat.DetectionTimeout + TimeSpan.FromMilliseconds(200)).TotalMilliseconds} ms |");
    report.AppendLine();
    report.AppendLine("Each run: " + string.Join(", ", latencies.Select(l => l.ToString("F0", culture) + " ms")));
}
else
{
    double minutes = double.Parse(Option("--minutes", "5"), culture);
    int gcMs = int.Parse(Option("--gc-ms", "200"), culture);
    int hogCount = int.Parse(Option("--hogs", "4"), culture);
    var environment = new Dictionary<string, string> { ["FARM_DIAG_FORCED_GC_MS"] = gcMs.ToString(culture) };
    await using var farm = await LoopbackFarm.StartAsync(LoopbackPorts.FreeOn(3, consecutive: 2), heartbeat, environment, cancel.Token);
    long startEpoch;
    using (var admin = farm.Nodes[0].CreateAdminClient())
    {
        startEpoch = (await admin.GetStatusAsync(cancel.Token)).InstalledEpoch;
    }

    // CPU hogs at the daemons' own priority; `timeout` ends them even if this benchmark is killed.
    int seconds = (int)Math.Ceiling(minutes * 60) + 30;
    var hogs = Enumerable.Range(0, hogCount).Select(_ => Process.Start(new ProcessStartInfo("timeout", [$"{seconds}s", "sh", "-c", "while :; do :; done"]))!).ToList();
    var changes = new List<string>();
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token);
    stop.CancelAfter(TimeSpan.FromMinutes(minutes));
    long began = time.GetTimestamp();
    var watchers = farm.Nodes.Select(node => Task.Run(async () =>
    {
        using var admin = node.CreateAdminClient();
        try
        {
            await foreach (var status in admin.WatchStatusAsync(stop.Token))
            {
                var down = status.Nodes.Where(n => !n.InView || n.State != NodeState.Up).Select(n => n.Name).ToList();
                if (status.InstalledEpoch != startEpoch || down.Count > 0)
                {
                    lock (changes)
                    {
                        changes.Add($"{Ms(began, time.GetTimestamp()) / 1000:F1} s: {node.Node} sees epoch {status.InstalledEpoch}, not up/in view: [{string.Join(",", down)}]");
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Grpc.Core.RpcException) when (stop.IsCancellationRequested)
        {
        }
    })).ToList();
    await Task.WhenAll(watchers);
    foreach (var hog in hogs)
    {
        hog.Kill(entireProcessTree: true);
        hog.Dispose();
    }

    double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], culture);
    // Each farmd's last "forced full GC: N so far, total pause P ms" line.
    var gcSummaries = farm.Nodes.Select(n => n.Output.Split('\n').LastOrDefault(l => l.Contains("forced full GC:", StringComparison.Ordinal))?.Trim() ?? "none").ToList();
    int viewChanges = changes.Count;
    report.AppendLine("# Membership: no false positive under CPU saturation and forced full GCs");
    report.AppendLine();
    report.AppendLine(culture, $"Command: `tests/bench/membership/soak.sh --minutes {minutes} --gc-ms {gcMs} --hogs {hogCount} {timingArgs}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {machine}).");
    report.AppendLine(culture, $"Settings: 3 farmd on 127.0.0.1-3, {timing};");
    report.AppendLine(culture, $"{hogCount} busy-loop processes at nice 0, the applications' priority (farmd raises its own to nice -10), on {Environment.ProcessorCount} cores; every farmd forces a full blocking compacting GC every {gcMs} ms");
    report.AppendLine(culture, $"(FARM_DIAG_FORCED_GC_MS); 1-minute load average at the end: {load:F2}. Last GC summary of each farmd:");
    report.AppendLine(culture, $"{string.Join("; ", farm.Nodes.Select((n, i) => n.Node + ": " + gcSummaries[i]))}.");
    report.AppendLine();
    report.AppendLine("| duration | view changes or nodes seen down | result |");
    report.AppendLine("|---:|---:|---|");
    report.AppendLine(culture, $"| {minutes} min | {viewChanges} | {(viewChanges == 0 ? "no false positive" : "FALSE POSITIVES")} |");
    foreach (var change in changes.Take(20))
    {
        report.AppendLine("- " + change);
    }
}

Console.WriteLine();
Console.Write(report);
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
File.WriteAllText(outFile, report.ToString());
Console.WriteLine($"written to {outFile}");
return 0;

static string RuntimeInformationText()
{
    string model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
    return $"{model}, .NET {Environment.Version}";
}

