using System.Collections.Immutable;
using System.Net;
using Farm.Core.Config;
using Farm.Protocol.V1;
using Farm.Testing.Farmd;

namespace Farm.Bench.Membership;

/// <summary>
/// Three real farmd processes on 127.0.0.1-3 (the cluster file says 198.18.0.1-3; farmd's --address-map binds and dials
/// loopback instead), without data plane. Everything is killed and deleted on dispose.
/// </summary>
internal sealed class LoopbackFarm : IAsyncDisposable
{
    private readonly string directory;

    private LoopbackFarm(string directory, ClusterConfig cluster, ImmutableArray<FarmdProcess> nodes)
    {
        this.directory = directory;
        Cluster = cluster;
        Nodes = nodes;
    }

    public ClusterConfig Cluster { get; }

    public ImmutableArray<FarmdProcess> Nodes { get; }

    /// <summary>
    /// Starts n1-n3; <paramref name="extraNodes"/> more are configured (n4...) but not started, so that a benchmark may
    /// speak as one of them. FARM_BENCH_FARMD names another farmd.dll (an older build, for before/after figures).
    /// </summary>
    public static async Task<LoopbackFarm> StartAsync(
        int port, HeartbeatOptions heartbeat, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken, int extraNodes = 0)
    {
        string directory = Directory.CreateTempSubdirectory("farm-bench-").FullName;
        var cluster = new ClusterConfig
        {
            Name = "bench",
            Key = "bench-cluster-key-0123456789abcdef",
            GrpcPort = port,
            ConsolePort = port + 1,
            Heartbeat = heartbeat,
            Nodes = [.. Enumerable.Range(1, 3 + extraNodes).Select(i => new NodeConfig { Name = $"n{i}", Addresses = [IPAddress.Parse($"198.18.0.{i}")] })],
        };
        string clusterFile = FarmConfigFiles.WriteCluster(cluster, Path.Combine(directory, "cluster.yaml"));
        var map = Enumerable.Range(1, 3 + extraNodes).ToDictionary(i => IPAddress.Parse($"198.18.0.{i}"), i => IPAddress.Parse($"127.0.0.{i}"));
        string? farmd = Environment.GetEnvironmentVariable("FARM_BENCH_FARMD");
        var nodes = cluster.Nodes.Take(3).Select(n => FarmdProcess.Start(new FarmdOptions
        {
            FarmdPath = string.IsNullOrEmpty(farmd) ? Path.Combine(AppContext.BaseDirectory, "farmd.dll") : farmd,
            ClusterFile = clusterFile,
            Node = n.Name,
            AdminSocket = Path.Combine(directory, n.Name + ".sock"),
            AddressMap = map,
            Environment = environment,
        })).ToImmutableArray();
        var farm = new LoopbackFarm(directory, cluster, nodes);
        try
        {
            foreach (var node in nodes)
            {
                await node.WaitForReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }

            await farm.WaitUntilAsync(s => s.Nodes.Count(n => n.InView) == 3, TimeSpan.FromSeconds(30), cancellationToken);
            return farm;
        }
        catch
        {
            await farm.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls every node until each one's status satisfies <paramref name="condition"/> and they agree on the epoch.</summary>
    public async Task WaitUntilAsync(Func<NodeStatusReport, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var end = TimeProvider.System.GetTimestamp() + (long)(timeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (true)
        {
            var statuses = new List<NodeStatusReport>();
            foreach (var node in Nodes.Where(n => !n.HasExited))
            {
                using var admin = node.CreateAdminClient();
                statuses.Add(await admin.GetStatusAsync(cancellationToken));
            }

            if (statuses.All(condition) && statuses.Select(s => s.InstalledEpoch).Distinct().Count() == 1)
            {
                return;
            }

            if (TimeProvider.System.GetTimestamp() > end)
            {
                throw new TimeoutException("The farm did not reach the expected state:\n" + string.Join("\n", statuses));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        Directory.Delete(directory, recursive: true);
    }
}
