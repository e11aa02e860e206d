using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Farm.Core.Config;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Farm.Testing.Network;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Farm.Bench.Membership;

/// <summary>
/// What hostile requests cost the node they hit: 1,000 unauthenticated heartbeats (wrong key), 1,000 oversized ones,
/// 1,000 from an address outside the farm (each on a new connection), and a few authenticated heartbeats whose drain
/// report claims every bucket range (the expansion attack). farmd's CPU (utime + stime from /proc) above its idle rate.
/// </summary>
internal static class HostileBench
{
    private const int OversizedBytes = 5 * 1024 * 1024;
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    public static async Task<string> RunAsync(HeartbeatOptions heartbeat, int requests, int oversized, int expansion, bool legacy, string label, string machine, CancellationToken cancellationToken)
    {
        await using var farm = await LoopbackFarm.StartAsync(LoopbackPorts.FreeOn(4, consecutive: 2), heartbeat, new Dictionary<string, string>(), cancellationToken, extraNodes: 1);
        var target = farm.Nodes[0];
        int port = farm.Cluster.GrpcPort;
        await Task.Delay(TimeSpan.FromSeconds(5), TimeProvider.System, cancellationToken); // start-up work done
        var settings = new ChannelSettings { MaxSendMessageSize = OversizedBytes * 2 };
        using var channel = GrpcChannels.ForTcp($"127.0.0.1:{port}", settings);
        var client = new Farm.Protocol.V1.Membership.MembershipClient(channel);
        var forger = new Sealer("an-attacker-does-not-know-the-key", "n2", legacy);
        var insider = new Sealer(farm.Cluster.Key, "n4", legacy);
        var rows = new List<string>();

        async Task Measure(string kind, int count, Func<int, Task<string>> send)
        {
            double idle = await IdleRateAsync(target.Id, cancellationToken);
            var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
            long rssBefore = RssKb(target.Id);
            var cpu0 = CpuOf(target.Id);
            long t0 = TimeProvider.System.GetTimestamp();
            using var gate = new SemaphoreSlim(8);
            var tasks = Enumerable.Range(0, count).Select(async i =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    string outcome = await send(i);
                    lock (outcomes)
                    {
                        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                    }
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(tasks);
            double wall = TimeProvider.System.GetElapsedTime(t0).TotalSeconds;
            await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, cancellationToken); // late work (GC) counted too
            double cpuMs = (CpuOf(target.Id) - cpu0).TotalMilliseconds - (idle * (wall + 0.5) * 1000);
            long rssAfter = RssKb(target.Id);
            bool alive = !target.HasExited;
            string answers = string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} ×{o.Value}"));
            string row = string.Create(Culture,
                $"| {kind} | {count} | {wall:F2} s | {Math.Max(0, cpuMs):F0} ms | {Math.Max(0, cpuMs) * 1000 / count:F0} µs | {(rssAfter - rssBefore) / 1024.0:+0;-0} MiB | {(alive ? "yes" : "**died**")} | {answers} |");
            Console.WriteLine(row);
            rows.Add(row);
        }

        var heartbeatPayload = new HeartbeatRequest { Sender = new Member { Name = "n2", Incarnation = 1, Weight = 100 }, ConfigHash = "x" }.ToByteString();
        await Measure("wrong key (bad MAC)", requests, i => Outcome(client.HeartbeatAsync(forger.Request(heartbeatPayload, "n1", 1), deadline: Deadline()).ResponseAsync));

        var big = ByteString.CopyFrom(new byte[OversizedBytes]);
        await Measure("oversized (5 MiB)", oversized, i => Outcome(client.HeartbeatAsync(forger.Request(big, "n1", 1), deadline: Deadline()).ResponseAsync));

        await Measure("address outside the farm, new connection each", requests, async i =>
        {
            using var foreign = ForeignChannel($"127.0.0.1:{port}", IPAddress.Parse("127.0.0.9"));
            var c = new Farm.Protocol.V1.Membership.MembershipClient(foreign);
            return await Outcome(c.HeartbeatAsync(forger.Request(heartbeatPayload, "n1", 1), deadline: Deadline()).ResponseAsync);
        });

        // Sealed with the key (an insider, or a node's key stolen): a drain report of 1,000 ranges of 65,536 buckets each.
        long run = legacy ? 0 : (await client.HeartbeatAsync(insider.Request(heartbeatPayload, "n1", 0), deadline: Deadline(), cancellationToken: cancellationToken)).Incarnation;
        var expanding = new HeartbeatRequest
        {
            Sender = new Member { Name = "n4", Incarnation = insider.Incarnation, Weight = 100 },
            ConfigHash = "x",
            Drains = new DrainReport { Modules = { new ModuleDrain { Module = "web", DrainingRanges = { Enumerable.Range(0, 1000).Select(i => new uint[] { (uint)i * 65536, ((uint)i * 65536) + 65535 }).SelectMany(r => r) } } } },
        }.ToByteString();
        await Measure($"drain report of 1,000 ranges of 65,536 buckets ({expanding.Length / 1024} KiB, sealed with the key)", expansion,
            i => Outcome(client.HeartbeatAsync(insider.Request(expanding, "n1", run), deadline: Deadline()).ResponseAsync));

        using var admin = target.CreateAdminClient();
        var status = await admin.GetStatusAsync(cancellationToken);
        var report = new StringBuilder();
        report.AppendLine(Culture, $"## {label}");
        report.AppendLine();
        report.AppendLine(Culture, $"Command: `tests/bench/membership/hostile.sh --label {label} --requests {requests} --oversized {oversized} --expansion {expansion}{(legacy ? " --legacy" : "")}` ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {machine}); farmd: {Environment.GetEnvironmentVariable("FARM_BENCH_FARMD") ?? "this build"}.");
        report.AppendLine("Target: n1 of three farmd on loopback (data plane off); 8 requests in flight; CPU is farmd's utime + stime above its idle rate.");
        report.AppendLine();
        report.AppendLine("| requests | count | wall | farmd CPU | per request | RSS change | n1 alive | answers |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---|---|");
        foreach (string row in rows)
        {
            report.AppendLine(row);
        }

        report.AppendLine();
        report.AppendLine(Culture, $"n1 after the run: {status.Nodes.Count(n => n.InView)} nodes in view; refusals counted: {string.Join(", ", status.Rejected.GroupBy(r => r.Reason).Select(g => $"{g.Key} {g.Sum(r => (long)r.Count)}"))}.");
        return report.ToString();
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);

    private static async Task<string> Outcome(Task<Envelope> call)
    {
        try
        {
            var reply = await call;
            return reply.Refusal == Refusal.None ? "OK" : "OK (" + reply.Refusal + ")";
        }
        catch (RpcException ex)
        {
            return ex.StatusCode.ToString();
        }
    }

    private static GrpcChannel ForeignChannel(string hostAndPort, IPAddress source)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://" + hostAndPort, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    private static async Task<double> IdleRateAsync(int pid, CancellationToken cancellationToken)
    {
        var cpu0 = CpuOf(pid);
        long t0 = TimeProvider.System.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(3), TimeProvider.System, cancellationToken);
        return (CpuOf(pid) - cpu0).TotalSeconds / TimeProvider.System.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>utime + stime of a process (clock ticks of 10 ms on Linux).</summary>
    public static TimeSpan CpuOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>Resident set size in KiB.</summary>
    public static long RssKb(int pid)
    {
        string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Seals heartbeats as <paramref name="sender"/>: protocol 2, or the protocol 1 layout for an older farmd.</summary>
    internal sealed class Sealer(string key, string sender, bool legacy)
    {
        private readonly EnvelopeCodec codec = new(key);
        private readonly byte[] macKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(key), 32, [], Encoding.ASCII.GetBytes(EnvelopeCodec.KeyPurpose));
        private long seq;

        public long Incarnation { get; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public Envelope Request(ByteString payload, string recipient, long recipientIncarnation)
        {
            var envelope = new Envelope
            {
                Sender = sender,
                Incarnation = Incarnation,
                Seq = (ulong)Interlocked.Increment(ref seq),
                UnixTimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                Payload = payload,
            };
            if (legacy)
            {
                envelope.Mac = ByteString.CopyFrom(LegacyMac(envelope));
                return envelope;
            }

            envelope.Recipient = recipient;
            envelope.RecipientIncarnation = recipientIncarnation;
            envelope.Protocol = ProtocolRange.Current.Oldest;
            envelope.MaxProtocol = ProtocolRange.Current.Newest;
            return codec.Seal(MethodPaths.Heartbeat, EnvelopeKind.Request, envelope);
        }

        /// <summary>Protocol 1 (Farm before recipient binding): no recipient, no versions, domain "farm/v1 envelope".</summary>
        private byte[] LegacyMac(Envelope e)
        {
            using var m = new MemoryStream();
            void Bytes(ReadOnlySpan<byte> b) => m.Write(b);
            void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); m.Write(b); }
            void U64(ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64BigEndian(b, v); m.Write(b); }
            Bytes(Encoding.ASCII.GetBytes("farm/v1 envelope\0"));
            byte[] method = Encoding.UTF8.GetBytes(MethodPaths.Heartbeat);
            U32((uint)method.Length);
            Bytes(method);
            m.WriteByte(0);
            byte[] name = Encoding.UTF8.GetBytes(e.Sender);
            U32((uint)name.Length);
            Bytes(name);
            U64((ulong)e.Incarnation);
            U64(e.Seq);
            U64((ulong)e.UnixTimeMs);
            U32(e.Lan);
            U64(e.ReplyTo);
            U32((uint)e.Payload.Length);
            Bytes(e.Payload.Span);
            return HMACSHA256.HashData(macKey, m.ToArray());
        }
    }
}
