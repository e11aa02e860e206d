using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.Versioning;
using System.Text.Json;
using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.Testing.Farmd;
using Farm.Testing.Network;
using Farm.Testing.Topology;

namespace Farm.Bench.Neighbor;

/// <summary>
/// One real farmd with its data plane (nftables, VIPs, ARP/NDP responder) in the node namespace of a
/// <see cref="FarmTopology"/>, and one client namespace on the same bridge. Module "bench": VIPs 198.18.0.100 and
/// 2001:db8::100 on eth0. Everything lives in namespaces created for the run and deleted on dispose.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class NeighborFarm : IAsyncDisposable
{
    public static readonly IPAddress Vip4 = IPAddress.Parse("198.18.0.100");
    public static readonly IPAddress Vip6 = IPAddress.Parse("2001:db8::100");

    private readonly FarmTopology topology;
    private readonly FarmdGroup daemons = new(1);
    private readonly string root;

    private NeighborFarm(FarmTopology topology, string root)
    {
        this.topology = topology;
        this.root = root;
    }

    public TopologyHost Client => topology.Clients[0];

    public TopologyHost Node => topology.Nodes[0];

    public FarmdProcess Daemon => daemons[0];

    /// <summary>Builds the namespaces, starts farmd and waits until it answers on its admin socket (its data plane runs by then).</summary>
    public static async Task<NeighborFarm> StartAsync(CancellationToken cancellationToken)
    {
        var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = 1 }, cancellationToken: cancellationToken);
        NeighborFarm? farm = null;
        try
        {
            string root = Directory.CreateTempSubdirectory("farm-neighbor-").FullName;
            farm = new NeighborFarm(topology, root);
            var cluster = new ClusterConfig
            {
                Name = "farm-neighbor",
                Key = "farm-neighbor-bench-key-0123456789abcdef",
                Nodes = [new NodeConfig { Name = FarmdGroup.NodeName(0), Addresses = [FarmTopology.NodeAddress4(0)] }],
            };
            var module = new ModuleConfig
            {
                Name = "bench",
                Vips = [Vip4, Vip6],
                Interface = topology.Nodes[0].InterfaceName,
                Buckets = 256,
                Rules = [new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = 8080, LastPort = 8080, Affinity = Affinity.ClientIp }],
            };
            FarmConfigFiles.WriteCluster(cluster, Path.Combine(root, "cluster.yaml"));
            FarmConfigFiles.WriteModule(module, Path.Combine(root, "modules"));
            farm.daemons.Start(0, FarmdOptions.UnderRoot(root, FarmdGroup.NodeName(0), topology.Nodes[0].Namespace));
            await farm.Daemon.WaitForReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
            return farm;
        }
        catch
        {
            if (farm is not null)
            {
                await farm.DisposeAsync();
            }
            else
            {
                await topology.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>The interface index and MAC of <paramref name="host"/>'s interface, read inside its namespace.</summary>
    public static async Task<(int Index, PhysicalAddress Mac)> ReadLinkAsync(TopologyHost host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        var result = await host.Namespace.IpAsync(["-j", "link", "show", "dev", host.InterfaceName], cancellationToken);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var link = json.RootElement[0];
        return (link.GetProperty("ifindex").GetInt32(), PhysicalAddress.Parse(link.GetProperty("address").GetString()!.Replace(':', '-')));
    }

    /// <summary>farmd's user + system CPU time so far (from /proc, in clock ticks of 10 ms).</summary>
    public TimeSpan DaemonCpuTime()
    {
        // Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name.
        string stat = File.ReadAllText($"/proc/{Daemon.Id}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>Everything farmd printed (for failure messages).</summary>
    public string Outputs() => daemons.Outputs();

    /// <summary>Stops farmd gracefully (SIGTERM) and returns its exit code and how long the stop took.</summary>
    public async Task<(int ExitCode, TimeSpan Took)> StopDaemonAsync(CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        long start = time.GetTimestamp();
        await Daemon.TerminateAsync(cancellationToken);
        int exitCode = await Daemon.WaitForExitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return (exitCode, time.GetElapsedTime(start));
    }

    /// <summary>Kills farmd if it still runs and deletes the namespaces and files.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await daemons.DisposeAsync();
            await topology.DisposeAsync();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
