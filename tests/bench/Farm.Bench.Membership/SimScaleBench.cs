using System.Diagnostics;
using System.Globalization;
using System.Text;
using Farm.Cluster.Membership;
using Farm.Core.Config;
using Farm.Daemon.Transport;
using Farm.Protocol;
using Farm.Protocol.Security;
using Envelope = Farm.Protocol.V1.Envelope;
using Farm.Testing.Simulation;
using Google.Protobuf;

namespace Farm.Bench.Membership;

/// <summary>
/// Membership at scale on the deterministic simulation (virtual time, no CPU figures): for each farm size, one farm
/// per seed starts and converges; then over a steady window every request and reply is counted and sized as farmd
/// seals it (envelope with MAC, payload from farmd's own protobuf mapping); then four failures in turn, each followed
/// by the victim's restart and a new convergence: a member's host gone and the coordinator's host gone (silence: the
/// detection timeout decides), a member's farmd killed and the coordinator's farmd killed on a live host (the crash
/// fast path: the survivors' connections break and the port refuses, <c>noticeAfter</c> later). Each failure is timed
/// to the moment every survivor has installed a view without the victim, and to full convergence (one view on every
/// survivor, every bucket accepted by exactly one node).
/// </summary>
internal static class SimScaleBench
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>farmd's finest wake-up between ticks (<c>MembershipHost.PollInterval</c>).</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    private static readonly (string Name, bool Coordinator, bool ProcessGone)[] Failures =
    [
        ("member host gone", false, false),
        ("coordinator host gone", true, false),
        ("member farmd killed", false, true),
        ("coordinator farmd killed", true, true),
    ];

    public static string Run(IReadOnlyList<int> sizes, int seeds, TimeSpan measure, TimeSpan noticeAfter, HeartbeatOptions heartbeat, string command, string machine)
    {
        var goal = heartbeat.DetectionTimeout + (2 * heartbeat.Interval);
        var report = new StringBuilder();
        report.AppendLine(Culture, $"Command: `{command}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {machine}).");
        report.AppendLine(Culture, $"Simulation (`src/Farm.Testing/Simulation`, virtual time): heartbeat {Ms(heartbeat.Interval)} ms / detection {Ms(heartbeat.DetectionTimeout)} ms / lease {Ms(heartbeat.Lease)} ms, one LAN, split-brain policy none, one module of 256 buckets, messages delayed 0-2 ms, polls every {Ms(PollInterval)} ms between ticks (as farmd); {seeds} seed(s) per size; steady window {measure.TotalSeconds:F0} s; crash fast path notice {Ms(noticeAfter)} ms after the kill. Goal: every survivor installs a view without the failed node within detection + 2 intervals = {Ms(goal)} ms.");
        report.AppendLine();
        var traffic = new StringBuilder();
        var failures = new StringBuilder();
        foreach (int nodes in sizes)
        {
            var sizeStats = new List<Traffic>();
            var results = Failures.Select(_ => new List<(double Excluded, double Converged)>()).ToList();
            var started = new List<double>();
            var wall = Stopwatch.StartNew();
            for (int s = 0; s < seeds; s++)
            {
                var sim = new SimCluster(nodes, SplitBrainPolicy.None, seed: 17_000 + (nodes * 100) + s, heartbeat: heartbeat)
                {
                    CheckOnTicksOnly = nodes > 8,
                    PollInterval = PollInterval,
                };
                var counter = new Traffic(nodes);
                sim.Sent = (from, request) => counter.Request(from, request);
                sim.Replied = (from, to, reply) => counter.Reply(from, to, reply);
                sim.StartAll();
                started.Add(Ms(Converge(sim, "start")));
                // Past the first view's hand-over (drain timeout 2 s): its drain reports send extra heartbeat rounds.
                sim.RunFor(TimeSpan.FromSeconds(3));

                counter.Begin();
                sim.RunFor(measure);
                counter.End(measure);
                sizeStats.Add(counter);

                for (int f = 0; f < Failures.Length; f++)
                {
                    results[f].Add(Fail(sim, Failures[f].Coordinator, Failures[f].ProcessGone, noticeAfter));
                }
            }

            Console.WriteLine($"{nodes} nodes: {seeds} seed(s) in {wall.Elapsed.TotalSeconds:F1} s");
            var t = sizeStats[0];
            traffic.AppendLine(Culture,
                $"| {nodes} | {Median(started):F0} ms | {t.HeartbeatsPerNode:F0} | {t.RepliesPerNode:F0} | {t.HeartbeatBytes:F0} / {t.ReplyBytes:F0} B | {t.BytesPerNode / 1024:F1} KiB/s | {t.BytesPerNode * nodes / 1024:F1} KiB/s | {(t.HeartbeatsPerNode + t.RepliesPerNode) * nodes:F0} |");
            for (int f = 0; f < Failures.Length; f++)
            {
                var excluded = results[f].Select(r => r.Excluded).ToList();
                var converged = results[f].Select(r => r.Converged).ToList();
                bool met = excluded.Max() <= Ms(goal);
                failures.AppendLine(Culture,
                    $"| {nodes} | {Failures[f].Name} | {Median(excluded):F0} / {excluded.Max():F0} ms | {Median(converged):F0} / {converged.Max():F0} ms | {(met ? "met" : "**not met**")} |");
            }
        }

        report.AppendLine("### Steady state: membership messages per node (heartbeats only: no view change in the window)");
        report.AppendLine();
        report.AppendLine("| nodes | start to one view (median) | heartbeat requests sent /s per node | heartbeat replies sent /s per node | sealed size request / reply (envelope, protobuf) | bytes sent /s per node (envelopes) | whole farm | messages /s whole farm |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        report.Append(traffic);
        report.AppendLine();
        report.AppendLine("Sizes are the protobuf envelopes as farmd seals them (MAC included; seq and clocks at realistic widths). On the wire each");
        report.AppendLine("also takes a 5-byte gRPC prefix and a 9-byte HTTP/2 DATA frame header, plus TCP/IP headers and ACKs (not modelled).");
        report.AppendLine();
        report.AppendLine("### One failure: time until every survivor installed a view without the failed node, and until full convergence (median / max over seeds)");
        report.AppendLine();
        report.AppendLine(Culture, $"| nodes | failure | every survivor without it | converged (one view, every bucket accepted once) | ≤ {Ms(goal)} ms |");
        report.AppendLine("|---:|---|---:|---:|---|");
        report.Append(failures);
        return report.ToString();
    }

    /// <summary>Fails the coordinator (the lowest name) or a member in the middle; times it; restarts it and converges again.</summary>
    private static (double Excluded, double Converged) Fail(SimCluster sim, bool coordinator, bool processGone, TimeSpan noticeAfter)
    {
        var victim = coordinator ? sim.Nodes[0] : sim.Nodes[sim.Nodes.Length / 2];
        var survivors = sim.Nodes.Where(n => n != victim).ToList();
        var at = sim.Now;
        sim.Crash(victim.Name, processGone, noticeAfter);
        sim.Invariants.NetworkChangedAt = sim.Now;
        var step = TimeSpan.FromMilliseconds(1);
        var limit = at + TimeSpan.FromSeconds(10);
        TimeSpan? excluded = null;
        while (sim.Now < limit)
        {
            sim.RunFor(step);
            if (excluded is null && survivors.All(n => n.Manager!.Installed is { } v && v.Find(victim.Name) is null))
            {
                excluded = sim.Now - at;
            }

            if (excluded is not null && sim.IsConverged())
            {
                break;
            }
        }

        if (excluded is null || !sim.IsConverged())
        {
            throw new InvalidOperationException($"{sim.Nodes.Length} nodes: no convergence within 10 s after the failure of {victim.Name}\n{sim.Describe()}");
        }

        var converged = sim.Now - at;
        sim.Restart(victim.Name);
        sim.Invariants.NetworkChangedAt = sim.Now;
        Converge(sim, "the victim's restart");
        sim.RunFor(TimeSpan.FromSeconds(1));
        return (Ms(excluded.Value), Ms(converged));
    }

    private static TimeSpan Converge(SimCluster sim, string after)
    {
        var from = sim.Now;
        return sim.RunUntilConverged(TimeSpan.FromSeconds(30), out var at)
            ? at - from
            : throw new InvalidOperationException($"{sim.Nodes.Length} nodes: no convergence within 30 s after {after}\n{sim.Describe()}");
    }

    private static double Ms(TimeSpan t) => t.TotalMilliseconds;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Counts and sizes the membership messages of a window.</summary>
    private sealed class Traffic(int nodes)
    {
        // Realistic varint widths: a run's incarnation and clock are unix milliseconds, its seq is in the millions after hours.
        private const long Incarnation = 1_796_332_140_993;
        private const ulong SeqBase = 5_000_000;
        private static readonly ByteString Mac = ByteString.CopyFrom(new byte[EnvelopeCodec.MacLength]);
        private bool counting;
        private long heartbeats;
        private long replies;
        private long heartbeatBytes;
        private long replyBytes;
        private long otherBytes;

        public double HeartbeatsPerNode { get; private set; }

        public double RepliesPerNode { get; private set; }

        public double HeartbeatBytes => heartbeats == 0 ? 0 : (double)heartbeatBytes / heartbeats;

        public double ReplyBytes => replies == 0 ? 0 : (double)replyBytes / replies;

        public double BytesPerNode { get; private set; }

        public void Begin()
        {
            counting = true;
            heartbeats = replies = heartbeatBytes = replyBytes = otherBytes = 0;
        }

        public void End(TimeSpan window)
        {
            counting = false;
            double perNode = window.TotalSeconds * nodes;
            HeartbeatsPerNode = heartbeats / perNode;
            RepliesPerNode = replies / perNode;
            BytesPerNode = (heartbeatBytes + replyBytes + otherBytes) / perNode;
        }

        public void Request(string from, OutboundRequest request)
        {
            if (!counting)
            {
                return;
            }

            int size = Sealed(from, request.To, request.Message, reply: false);
            if (request.Message is HeartbeatRequest)
            {
                heartbeats++;
                heartbeatBytes += size;
            }
            else
            {
                otherBytes += size;
            }
        }

        public void Reply(string from, string to, MembershipMessage reply)
        {
            if (!counting)
            {
                return;
            }

            int size = Sealed(from, to, reply, reply: true);
            if (reply is HeartbeatReply)
            {
                replies++;
                replyBytes += size;
            }
            else
            {
                otherBytes += size;
            }
        }

        /// <summary>The envelope's size as farmd seals it: the MAC's 32 bytes are there, their value does not change the size.</summary>
        private static int Sealed(string from, string to, MembershipMessage message, bool reply)
        {
            long now = Incarnation + 3_600_000;
            var envelope = new Envelope
            {
                Sender = from,
                Incarnation = Incarnation,
                Seq = SeqBase,
                UnixTimeMs = now,
                ReplyTo = reply ? SeqBase : 0,
                Payload = MessageMapper.ToProto(message).ToByteString(),
                Mac = Mac,
                Recipient = to,
                RecipientIncarnation = Incarnation,
                Protocol = ProtocolRange.Current.Newest,
                MaxProtocol = ProtocolRange.Current.Newest,
            };
            return envelope.CalculateSize();
        }
    }
}
