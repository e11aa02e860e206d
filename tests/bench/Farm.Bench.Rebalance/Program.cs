[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Rebalance benchmark: three real farmd (a fourth joins) in network namespaces, 1000 long-lived TCP sessions from 200
// client addresses, each exchanging a message every 50 ms. Per repetition: a fourth node joins, then one node is
// drained. For each move: sessions broken (reset, failed, moved to another node: target 0), time until the kernels
// split new flows in the new shares (the quota moved), and the latency clients saw during the move vs just before.
var culture = CultureInfo.InvariantCulture;
var commandLine = new BenchCommandLine(args);
if (commandLine.Refusal("usage: Farm.Bench.Rebalance [--repetitions N=3] [--sessions-per-client N=5] [--out FILE=tests/bench/results/rebalance.md]",
        "network namespaces, nftables") is int exit)
{
    return exit;
}

string? Option(string name) => commandLine.Option(name);

int repetitions;
int perClient;
try
{
    repetitions = int.Parse(Option("--repetitions") ?? "3", culture);
    perClient = int.Parse(Option("--sessions-per-client") ?? "5", culture);
    if (repetitions < 1 || perClient < 1)
    {
        throw new FormatException("--repetitions and --sessions-per-client must be at least 1");
    }
}
catch (FormatException e)
{
    Console.Error.WriteLine($"Farm.Bench.Rebalance: {e.Message} (see --help)");
    return 2;
}

string outFile = Option("--out") ?? "tests/bench/results/rebalance.md";
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // let the farm's disposal delete every namespace
    stop.Cancel();
};

var rows = new List<string>();
int sessions = RebalanceScenario.ClientAddresses * perClient;
var baselineWindow = TimeSpan.FromSeconds(3);
for (int rep = 1; rep <= repetitions && !stop.IsCancellationRequested; rep++)
{
    var ct = stop.Token;
    await using var farm = await RebalanceScenario.StartAsync(running: 3, TimeSpan.FromMinutes(5), ct);
    await using var load = await SessionLoad.StartAsync(
        farm.Client.Namespace, farm.Sources(), [RebalanceScenario.Vip], RebalanceScenario.TcpPort,
        new SessionLoadOptions { SessionsPerSource = perClient }, cancellationToken: ct);
    await load.WaitUntilAsync(s => s.Open == sessions && s.MinRoundTrips >= 5, TimeSpan.FromSeconds(60), ct);
    await Task.Delay(baselineWindow, TimeProvider.System, ct);

    async Task<string> MoveAsync(string what, Func<Task> act, Dictionary<int, int> weights)
    {
        var before = load.Snapshot();
        var begin = load.Elapsed;
        var watch = Stopwatch.StartNew();
        await act();
        await farm.WaitAcceptorsAsync(weights, TimeSpan.FromSeconds(60), ct);
        var moved = watch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, ct);
        var end = load.Elapsed;
        var after = load.Snapshot();
        var baseline = load.GetLatency(begin - baselineWindow, begin);
        var during = load.GetLatency(begin, end);
        int broken = (after.Reset - before.Reset) + (after.Failed - before.Failed) + (after.NodeChanges - before.NodeChanges);
        string row = string.Create(culture,
            $"| {rep} | {what} | {sessions} | {broken} | {after.Stalls - before.Stalls} | {moved.TotalMilliseconds:F0} | " +
            $"{baseline.P50.TotalMilliseconds:F1} / {baseline.P99.TotalMilliseconds:F1} / {baseline.Max.TotalMilliseconds:F1} | " +
            $"{during.P50.TotalMilliseconds:F1} / {during.P99.TotalMilliseconds:F1} / {during.Max.TotalMilliseconds:F1} | " +
            $"{(during.P99 - baseline.P99).TotalMilliseconds:F1} |");
        Console.WriteLine(row);
        return row;
    }

    rows.Add(await MoveAsync("join node3", () =>
    {
        farm.StartDaemon(3);
        return Task.CompletedTask;
    }, new() { [0] = 1, [1] = 1, [2] = 1, [3] = 1 }));
    await Task.Delay(baselineWindow, TimeProvider.System, ct);
    rows.Add(await MoveAsync("drain node1", async () =>
    {
        var answer = await farm.DrainAsync(1, DrainAction.Drain, via: 0, ct);
        if (!string.IsNullOrEmpty(answer.Error))
        {
            throw new InvalidOperationException("drain failed: " + answer.Error);
        }
    }, new() { [0] = 1, [1] = 0, [2] = 1, [3] = 1 }));
    var final = await load.StopAsync(ct);
    Console.WriteLine($"repetition {rep}: {final}");
}

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"# Rebalance benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"Command: `tests/bench/rebalance/run.sh --repetitions {repetitions} --sessions-per-client {perClient}`; {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end.");
report.AppendLine("Timings 100 ms / 1 s / 600 ms, 256 buckets, TCP client_ip, one message per session every 50 ms. 'quota moved' runs from the");
report.AppendLine("action (farmd start for a join, the drain request for a drain) until every kernel splits new flows in the new shares;");
report.AppendLine("a join includes farmd's own start. Latency (p50 / p99 / max, ms) is per message: 3 s before the move vs from the");
report.AppendLine("action to 1 s after the quota moved. Broken = sessions reset, failed or answered by another node.");
report.AppendLine();
report.AppendLine("| rep | move | sessions | broken | stalls > 1 s | quota moved (ms) | latency before | latency during | extra p99 (ms) |");
report.AppendLine("|---|---|---|---|---|---|---|---|---|");
foreach (var row in rows)
{
    report.AppendLine(row);
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
File.WriteAllText(outFile, report.ToString());
Console.WriteLine(report);
Console.WriteLine($"written to {outFile}");
return stop.IsCancellationRequested ? 130 : 0;
