using System.Diagnostics;
using System.Globalization;
using System.Text;
using Farm.Core.Config;
using Farm.Protocol;
using Farm.Protocol.V1;
using Farm.Testing.Network;
using Google.Protobuf;

namespace Farm.Bench.Membership;

/// <summary>
/// Heartbeat round trips and farmd's CPU per node at 3 nodes: a probe speaks as n4 (configured, not running) and sends
/// a sealed heartbeat to each node every 50 ms, timing request to opened reply (the same path as a peer's heartbeat:
/// seal, HTTP/2, the node's handling, open); meanwhile each node's CPU and RSS are read from /proc. Idle, then with
/// busy loops saturating every core. Works against an older farmd too (FARM_BENCH_FARMD, --legacy).
/// </summary>
internal static class RoundTripBench
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    public static async Task<string> RunAsync(HeartbeatOptions heartbeat, int warmupSeconds, int measureSeconds, int hogs, bool legacy, string label, string machine, CancellationToken cancellationToken)
    {
        await using var farm = await LoopbackFarm.StartAsync(LoopbackPorts.FreeOn(4, consecutive: 2), heartbeat, new Dictionary<string, string>(), cancellationToken, extraNodes: 1);
        await Task.Delay(TimeSpan.FromSeconds(warmupSeconds), TimeProvider.System, cancellationToken);
        var report = new StringBuilder();
        report.AppendLine(Culture, $"## {label}");
        report.AppendLine();
        report.AppendLine(Culture, $"Command: `tests/bench/membership/rtt.sh --label {label} --warmup {warmupSeconds} --measure {measureSeconds} --hogs {hogs}{(legacy ? " --legacy" : "")}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {machine}); farmd: {Environment.GetEnvironmentVariable("FARM_BENCH_FARMD") ?? "this build"}.");
        report.AppendLine(Culture, $"Three farmd on loopback, data plane off, heartbeat {heartbeat.Interval.TotalMilliseconds:F0} ms / detection {heartbeat.DetectionTimeout.TotalMilliseconds:F0} ms / lease {heartbeat.Lease.TotalMilliseconds:F0} ms, {warmupSeconds} s after start. Probe: sealed heartbeats as n4 to each node every 50 ms.");
        report.AppendLine();
        report.AppendLine("| condition | node | probe RTT p50 | probe RTT p99 | farmd RTT p50 / p99 (its own heartbeats, from status) | CPU (% of a core) | RSS |");
        report.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        await MeasureAsync("idle", farm, measureSeconds, legacy, report, cancellationToken);
        if (hogs > 0)
        {
            using var stop = new CancellationTokenSource();
            var threads = Enumerable.Range(0, hogs).Select(_ => new Thread(() => { while (!stop.IsCancellationRequested) { Thread.SpinWait(1000); } }) { IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            try
            {
                await MeasureAsync($"{hogs} busy loops on {Environment.ProcessorCount} cores", farm, measureSeconds, legacy, report, cancellationToken);
            }
            finally
            {
                await stop.CancelAsync();
                threads.ForEach(t => t.Join());
            }
        }

        return report.ToString();
    }

    private static async Task MeasureAsync(string condition, LoopbackFarm farm, int seconds, bool legacy, StringBuilder report, CancellationToken cancellationToken)
    {
        int port = farm.Cluster.GrpcPort;
        var cpu0 = farm.Nodes.Select(n => HostileBench.CpuOf(n.Id)).ToList();
        long t0 = TimeProvider.System.GetTimestamp();
        var probes = farm.Nodes.Select((node, i) => ProbeAsync($"127.0.0.{i + 1}:{port}", node.Node, farm.Cluster.Key, seconds, legacy, cancellationToken)).ToList();
        var samples = await Task.WhenAll(probes);
        double wall = TimeProvider.System.GetElapsedTime(t0).TotalSeconds;
        for (int i = 0; i < farm.Nodes.Length; i++)
        {
            var node = farm.Nodes[i];
            double cpu = (HostileBench.CpuOf(node.Id) - cpu0[i]).TotalSeconds / wall * 100;
            var rtt = samples[i];
            rtt.Sort();
            double P(double q) => rtt.Count == 0 ? double.NaN : rtt[Math.Min(rtt.Count - 1, (int)Math.Ceiling(q * rtt.Count) - 1)];
            string own = "n/a (older farmd)";
            if (!legacy)
            {
                using var admin = node.CreateAdminClient();
                var status = await admin.GetStatusAsync(cancellationToken);
                own = string.Join("; ", status.Nodes.Where(n => !n.IsSelf && n.InView).SelectMany(n => n.Lans.Select(l => $"{n.Name} {l.RttP50Us / 1000:F2} / {l.RttP99Us / 1000:F2} ms")));
            }

            report.AppendLine(Culture, $"| {condition} | {node.Node} | {P(0.5):F2} ms | {P(0.99):F2} ms | {own} | {cpu:F2}% | {HostileBench.RssKb(node.Id) / 1024.0:F0} MiB |");
        }
    }

    private static async Task<List<double>> ProbeAsync(string hostAndPort, string node, string key, int seconds, bool legacy, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannels.ForTcp(hostAndPort, new ChannelSettings());
        var client = new Farm.Protocol.V1.Membership.MembershipClient(channel);
        var sealer = new HostileBench.Sealer(key, "n4", legacy);
        var payload = new HeartbeatRequest { Sender = new Member { Name = "n4", Incarnation = sealer.Incarnation, Weight = 100 }, ConfigHash = "rtt-probe" }.ToByteString();
        long run = legacy ? 0 : (await client.HeartbeatAsync(sealer.Request(payload, node, 0), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken)).Incarnation;
        var samples = new List<double>();
        long end = TimeProvider.System.GetTimestamp() + (seconds * TimeProvider.System.TimestampFrequency);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        while (TimeProvider.System.GetTimestamp() < end && await timer.WaitForNextTickAsync(cancellationToken))
        {
            long sent = Stopwatch.GetTimestamp();
            var reply = await client.HeartbeatAsync(sealer.Request(payload, node, run), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken);
            if (legacy || reply.Refusal == Refusal.None)
            {
                samples.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        }

        return samples;
    }
}
