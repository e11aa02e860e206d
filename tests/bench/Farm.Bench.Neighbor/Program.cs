[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Neighbor responder benchmark: one real farmd (data plane on) in a node namespace, a client namespace on the same
// bridge sending ARP requests and IPv6 neighbor solicitations for the VIPs one at a time. tcpdump on the client's
// interface stamps each request as it leaves and each reply as it arrives (kernel timestamps, ns): p50/p90/p99/max of
// request-on-the-wire to reply-on-the-wire per family. Appends one section to a results file.
var culture = CultureInfo.InvariantCulture;
const string Usage = "usage: Farm.Bench.Neighbor [--requests N=2000] (per family) [--warmup N=100] [--pause-ms MS=2] [--timeout-ms MS=200]\n" +
                     "                          [--label TEXT=run] [--commit TEXT=unknown] [--out FILE=tests/bench/results/neighbor.md]";
var commandLine = new BenchCommandLine(args);
if (commandLine.Refusal(Usage, "network namespaces, nftables, tcpdump") is int exit)
{
    return exit;
}

string? Option(string name) => commandLine.Option(name);

int requests;
int warmup;
TimeSpan pause;
TimeSpan timeout;
try
{
    requests = int.Parse(Option("--requests") ?? "2000", culture);
    warmup = int.Parse(Option("--warmup") ?? "100", culture);
    pause = TimeSpan.FromMilliseconds(double.Parse(Option("--pause-ms") ?? "2", culture));
    timeout = TimeSpan.FromMilliseconds(double.Parse(Option("--timeout-ms") ?? "200", culture));
    if (requests < 1 || warmup < 0 || warmup + requests > ProbeFrames.MaxId || pause < TimeSpan.Zero || timeout <= TimeSpan.Zero)
    {
        throw new FormatException($"--requests >= 1, --warmup >= 0, together at most {ProbeFrames.MaxId}; --pause-ms >= 0; --timeout-ms > 0");
    }
}
catch (FormatException e)
{
    Console.Error.WriteLine($"Farm.Bench.Neighbor: {e.Message}\n{Usage}");
    return 2;
}

string label = Option("--label") ?? "run";
string commit = Option("--commit") ?? "unknown";
string outFile = Option("--out") ?? "tests/bench/results/neighbor.md";

if (await NamespaceSupport.GetMissingRequirementAsync(needNft: true) is { } missing)
{
    Console.Error.WriteLine(missing);
    return 2;
}

if (ToolLocator.Find("tcpdump") is null)
{
    Console.Error.WriteLine("tcpdump is missing: run installer/deps.sh (apt-get install tcpdump).");
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // unwind: farmd, tcpdump and every namespace are disposed on the way out
    cancel.Cancel();
};

var time = TimeProvider.System;
string loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[0];
var startedAt = time.GetUtcNow();
List<ProbeOutcome> outcomes;
List<WireFrame> frames;
long dropped;
TimeSpan farmdCpu;
TimeSpan farmdIdleCpu;
TimeSpan measuredFor;
var idleWindow = TimeSpan.FromSeconds(3);
(int ExitCode, TimeSpan Took) stop;

Console.WriteLine("== starting farmd in a node namespace");
await using (var farm = await NeighborScenario.StartAsync(cancel.Token))
{
    try
    {
        var (clientIndex, clientMac) = await NeighborScenario.ReadLinkAsync(farm.Client, cancel.Token);
        using var socket = await farm.Client.Namespace.RunAsync(() => PacketSocket.Open(clientIndex));
        await using var capture = await WireCapture.StartAsync(farm.Client.Namespace, farm.Client.InterfaceName, cancel.Token);
        var prober = new Prober(socket, clientMac, FarmModules.Vip4, FarmModules.Vip6, time);

        // A dedicated thread: the prober blocks in receive, and must not wait behind the thread pool.
        Console.WriteLine($"== warm-up: {warmup} requests per family");
        await RunOnThreadAsync(() => prober.Run(1, warmup, pause, timeout, cancel.Token));

        // farmd's own background work (heartbeat and lease ticks, announcements) without any request, for comparison.
        var idleBefore = farm.DaemonCpuTime();
        await Task.Delay(idleWindow, time, cancel.Token);
        farmdIdleCpu = farm.DaemonCpuTime() - idleBefore;

        Console.WriteLine($"== measuring: {requests} ARP requests and {requests} neighbor solicitations, one at a time, {pause.TotalMilliseconds} ms apart");
        var cpuBefore = farm.DaemonCpuTime();
        long began = time.GetTimestamp();
        outcomes = await RunOnThreadAsync(() => prober.Run(warmup + 1, requests, pause, timeout, cancel.Token));
        measuredFor = time.GetElapsedTime(began);
        farmdCpu = farm.DaemonCpuTime() - cpuBefore;
        frames = await capture.StopAsync(FarmModules.Vip4, FarmModules.Vip6, cancel.Token);
        dropped = capture.Dropped;
        stop = await farm.StopDaemonAsync(cancel.Token);
    }
    catch (Exception) when (!cancel.IsCancellationRequested)
    {
        Console.Error.WriteLine(farm.Outputs());
        throw;
    }
}

var report = new StringBuilder();
report.AppendLine(culture, $"## {label}: {startedAt:yyyy-MM-dd HH:mm} UTC, commit {commit}");
report.AppendLine();
report.AppendLine(culture, $"- Command: `tests/bench/neighbor/run.sh{(args.Length > 0 ? " " + string.Join(' ', args.Where((_, i) => !IsInternal(args, i))) : string.Empty)}`");
report.AppendLine(culture, $"- Machine: {Machine()}; 1-minute load average before the run: {loadBefore}");
report.AppendLine(culture, $"- {requests} ARP requests and {requests} neighbor solicitations (after {warmup} + {warmup} unmeasured), one at a time, the next {pause.TotalMilliseconds} ms after the previous reply; {measuredFor.TotalSeconds:F1} s");
report.AppendLine();
report.AppendLine("| request → reply (wire, client side) | measured | answered | unanswered | p50 | p90 | p99 | max | client socket round trip p50 / p99 |");
report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
var firstMeasured = warmup + 1;
foreach (bool v6 in new[] { false, true })
{
    var requestKind = v6 ? ProbeKind.Solicitation : ProbeKind.ArpRequest;
    var replyKind = v6 ? ProbeKind.Advertisement : ProbeKind.ArpReply;
    var sentAt = new Dictionary<int, long>();
    var latencies = new List<double>();
    foreach (var f in frames.Where(f => f.Id >= firstMeasured))
    {
        if (f.Kind == requestKind)
        {
            sentAt.TryAdd(f.Id, f.Nanoseconds);
        }
        else if (f.Kind == replyKind && sentAt.Remove(f.Id, out long at))
        {
            latencies.Add((f.Nanoseconds - at) / 1000.0);
        }
    }

    latencies.Sort();
    var roundTrips = outcomes.Where(o => o.IPv6 == v6 && o.RoundTrip is not null).Select(o => o.RoundTrip!.Value.TotalMicroseconds).Order().ToList();
    int measured = outcomes.Count(o => o.IPv6 == v6);
    report.AppendLine(culture,
        $"| {(v6 ? "neighbor solicitation → advertisement" : "ARP request → reply")} | {measured} | {latencies.Count} | {measured - latencies.Count} | {Us(Percentile(latencies, 0.5))} | {Us(Percentile(latencies, 0.9))} | {Us(Percentile(latencies, 0.99))} | {Us(latencies.Count > 0 ? latencies[^1] : double.NaN)} | {Us(Percentile(roundTrips, 0.5))} / {Us(Percentile(roundTrips, 0.99))} |");
}

report.AppendLine();
var replies = frames.Where(f => f.Id >= firstMeasured && f.Kind is ProbeKind.ArpReply or ProbeKind.Advertisement).ToList();
string Pairs(ProbeKind kind) => string.Join(", ", replies.Where(f => f.Kind == kind).GroupBy(f => (Source: f.Source.ToString(), LinkLayer: f.LinkLayer?.ToString() ?? "none"))
    .Select(g => $"{g.Count()} from {Mac(g.Key.Source)} resolving to {Mac(g.Key.LinkLayer)}"));
report.AppendLine(culture, $"- Replies (Ethernet source → link-layer address in the reply): ARP {Pairs(ProbeKind.ArpReply)}; NA {Pairs(ProbeKind.Advertisement)}");
report.AppendLine(culture, $"- farmd CPU time (user + system, 10 ms resolution): {farmdCpu.TotalMilliseconds:F0} ms while measuring ({measuredFor.TotalSeconds:F1} s); {farmdIdleCpu.TotalMilliseconds:F0} ms in {idleWindow.TotalSeconds:F0} s without requests just before");
report.AppendLine(culture, $"- tcpdump: {frames.Count} frames of ours captured, {dropped} dropped by the kernel");
report.AppendLine(culture, $"- farmd stopped by SIGTERM: exit code {stop.ExitCode} after {stop.Took.TotalMilliseconds:F0} ms");
report.AppendLine();

Console.WriteLine();
Console.Write(report);
string fullOut = Path.GetFullPath(outFile);
Directory.CreateDirectory(Path.GetDirectoryName(fullOut)!);
if (!File.Exists(fullOut))
{
    await File.WriteAllTextAsync(fullOut, Header(), cancel.Token);
}

await File.AppendAllTextAsync(fullOut, report.ToString(), cancel.Token);
Console.WriteLine($"appended to {outFile}");
return stop.ExitCode == 0 ? 0 : 1;

static Task<T> RunOnThreadAsync<T>(Func<T> action) =>
    Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

// run.sh passes --commit itself; the command line shown is what a user types.
static bool IsInternal(string[] args, int i) => args[i] == "--commit" || (i > 0 && args[i - 1] == "--commit");

static double Percentile(List<double> sorted, double q) =>
    sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

static string Us(double micros) => double.IsNaN(micros) ? "-" : micros.ToString("F1", CultureInfo.InvariantCulture) + " µs";

static string Mac(string text) => text.Length == 12 ? string.Join(':', Enumerable.Range(0, 6).Select(i => text.Substring(2 * i, 2).ToLowerInvariant())) : text;

static string Machine()
{
    string model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
    string kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
    return $"{model}, {Environment.ProcessorCount} cores, Linux {kernel}, .NET {Environment.Version}";
}

static string Header() =>
    """
    # ARP/NDP responder: request on the wire to reply on the wire

    Written by `tests/bench/neighbor/run.sh` (project `tests/bench/Farm.Bench.Neighbor`); each run appends a section.

    - Setup: a bridge namespace, a node namespace with one real `farmd` (data plane on: nftables, VIPs on `lo`, the
      ARP/NDP responder on `eth0`; module `bench`, VIPs 198.18.0.100 and 2001:db8::100) and a client namespace, joined by
      veth pairs. Created for the run and deleted at its end.
    - Load: the client sends, from an AF_PACKET socket, ARP requests and neighbor solicitations (to the VIP's
      solicited-node group, with a source link-layer option) for the VIPs, alternating, one at a time: the next one
      leaves a pause after the previous reply (or after a 200 ms timeout). Each request comes from its own probe
      address (198.19.x.y, 2001:db8:ffff::n), which the reply is addressed to, so every reply names its request.
    - Measured: tcpdump in the client namespace on the client's interface, nanosecond kernel timestamps; latency = time
      the reply was seen arriving − time the request was seen leaving. This includes two veth hops and the bridge each
      way (a few µs) besides the responder. The client socket's own round trip (user space to user space) is shown
      for reference.

    """;
