namespace Farm.Bench.Neighbor;

/// <summary>
/// The neighbor benchmark's scenario of <see cref="FarmFixture"/>: one real farmd with its data plane (nftables, VIPs,
/// ARP/NDP responder) at farmd's default timings in the node namespace, and one client namespace on the same bridge.
/// Module "bench": VIPs 198.18.0.100 and 2001:db8::100 on eth0.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class NeighborScenario
{
    /// <summary>Builds the namespaces, starts farmd and waits until it answers on its admin socket (its data plane runs by then).</summary>
    public static Task<FarmFixture> StartAsync(CancellationToken cancellationToken) =>
        FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = "farm-neighbor",
                Key = "farm-neighbor-bench-key-0123456789abcdef",
                Topology = new TopologyOptions { Nodes = 1, Clients = 1 },
                Heartbeat = new HeartbeatOptions(), // farmd's defaults
                Modules = [FarmModules.OnTopology("bench", [FarmModules.Vip4, FarmModules.Vip6], [FarmModules.Port(TransportProtocol.Tcp, 8080)])],
                ReadyTimeout = TimeSpan.FromSeconds(60),
            },
            cancellationToken);

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
    public static TimeSpan DaemonCpuTime(this FarmFixture farm)
    {
        ArgumentNullException.ThrowIfNull(farm);

        // Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name.
        string stat = File.ReadAllText($"/proc/{farm.Daemon(0).Id}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>Stops farmd gracefully (SIGTERM) and returns its exit code and how long the stop took.</summary>
    public static async Task<(int ExitCode, TimeSpan Took)> StopDaemonAsync(this FarmFixture farm, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(farm);
        var time = TimeProvider.System;
        long start = time.GetTimestamp();
        await farm.Daemon(0).TerminateAsync(cancellationToken);
        int exitCode = await farm.Daemon(0).WaitForExitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return (exitCode, time.GetElapsedTime(start));
    }
}
