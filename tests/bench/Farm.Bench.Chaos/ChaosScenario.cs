using Farm.Core.Hashing;

namespace Farm.Bench.Chaos;

/// <summary>
/// The soak's farm on <see cref="FarmFixture"/>: five farmd at the shipped default timings, split-brain policy majority
/// (the policy under which "never two kernels accepting one bucket" holds through partitions), two heartbeat LANs, one
/// client namespace with IPv4 and IPv6 sources, and module "web" on an IPv4 and an IPv6 VIP: TCP 8080 (client_ip), TCP
/// 8081 (client_ip_port), UDP 5353 (client_ip), served by the fixture's app in every node namespace. The module has two
/// checkers with action <c>wait</c> (out of the farm while down, back by itself): <c>port</c> (tcp, the app) and
/// <c>flag</c> (a custom script that fails while a flag file exists and hangs while another does).
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ChaosScenario
{
    public const string ModuleName = "web";
    public const int NodeCount = 5;
    public const int TcpPort = FarmModules.TcpPort;
    public const int TcpPortPort = FarmModules.TcpPortPort;
    public const int UdpPort = FarmModules.UdpPort;
    public const int Buckets = 256;

    /// <summary>Source addresses per family in the client namespace.</summary>
    public const int AddressesPerFamily = 8;

    /// <summary>
    /// The checkers' interval: a fault of the app shows within this plus the timeout (0.9 of it). Not shorter: a custom
    /// checker is a process start, which takes hundreds of milliseconds on a loaded two-core machine (at 250 ms every
    /// node's module flapped before any fault).
    /// </summary>
    public static readonly TimeSpan CheckerInterval = TimeSpan.FromSeconds(1);

    /// <summary>The heartbeat timings: farmd's shipped defaults.</summary>
    public static HeartbeatOptions Timings => new();

    public static readonly IPAddress Vip4 = FarmModules.Vip4;
    public static readonly IPAddress Vip6 = FarmModules.Vip6;

    public static Task<FarmFixture> StartAsync(CancellationToken cancellationToken) =>
        FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = "farm-chaos",
                Topology = new TopologyOptions { Nodes = NodeCount, Clients = 1, AddressesPerClient = AddressesPerFamily },
                Heartbeat = Timings,
                SplitBrain = new SplitBrainOptions { Policy = SplitBrainPolicy.Majority },
                SecondLan = true,
                WriteNodeModules = WriteModule,
                AppTcpPorts = [TcpPort, TcpPortPort],
                AppUdpEndpoints = [new IPEndPoint(Vip4, UdpPort), new IPEndPoint(Vip6, UdpPort)],
                Modules = [Module],
                ReadyTimeout = TimeSpan.FromSeconds(60),
                Settle = (farm, ct) => farm.WaitSettledAsync([.. Enumerable.Range(0, NodeCount)], ModuleName, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), ct),
            },
            cancellationToken);

    /// <summary>The module as the fixture knows it (bucket math); the file on disk adds the checkers.</summary>
    public static ModuleConfig Module => FarmModules.OnTopology(ModuleName, [Vip4, Vip6], FarmModules.WebRules, TimeSpan.FromSeconds(1), Buckets);

    /// <summary>The flag folder the custom checker of node <paramref name="index"/> reads.</summary>
    public static string FlagDirectory(FarmFixture farm, int index) => Path.Combine(farm.NodeDirectory(index), "modules", ModuleName, "flags");

    /// <summary>The name a hung checker's sleep runs under (<c>ps</c> shows it; the end-of-run check looks for it).</summary>
    public static string HungProcessName(int index) => string.Create(CultureInfo.InvariantCulture, $"farmchaos-hang-node{index}");

    private static void WriteModule(string root, int index)
    {
        string dir = Path.Combine(root, FarmFixture.NodeName(index), "modules", ModuleName);
        Directory.CreateDirectory(Path.Combine(dir, "checkers"));
        Directory.CreateDirectory(Path.Combine(dir, "flags"));
        string flag = Path.Combine(dir, "checkers", "flag");
        File.WriteAllText(flag, $"""
            #!/bin/bash
            # bash, not sh: dash has no "exec -a" (it failed with exit 127, so a "hung" checker only failed).
            flags="$(dirname "$0")/../flags"
            if [ -e "$flags/hang" ]; then exec -a {HungProcessName(index)} sleep 1000; fi
            if [ -e "$flags/fail" ]; then echo "flag $flags/fail is set"; exit 1; fi
            exit 0

            """);
        File.SetUnixFileMode(flag, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        string interval = Ms(CheckerInterval);
        string timeout = Ms(CheckerInterval * 0.9);
        string yaml = $"""
            module:
              name: {ModuleName}
              vips: [{Vip4}, {Vip6}]
              interface: {new TopologyOptions().InterfaceName}
              mode: balance
              buckets: {Buckets}
              seed: {Module.Seed}
              rules:
                - {"{"} protocol: tcp, ports: {TcpPort}, affinity: client_ip {"}"}
                - {"{"} protocol: tcp, ports: {TcpPortPort}, affinity: client_ip_port {"}"}
                - {"{"} protocol: udp, ports: {UdpPort}, affinity: client_ip {"}"}
              timeouts: {"{"} start: 5s, stop: 2s, stop_force: 1s, drain: 1s {"}"}
              checkers:
                - {"{"} name: port, type: tcp, address: 127.0.0.1, port: {TcpPort}, interval: {interval}, timeout: {timeout}, action: wait {"}"}
                - {"{"} name: flag, type: custom, script: checkers/flag, interval: {interval}, timeout: {timeout}, action: wait {"}"}

            """;
        string file = Path.Combine(dir, "farm.yaml");
        File.WriteAllText(file, yaml);
        var parsed = ConfigParser.ParseModule(yaml, file);
        if (parsed.Value is null)
        {
            throw new InvalidOperationException($"The soak's {file} is invalid:\n{string.Join("\n", parsed.Errors)}\n{yaml}");
        }
    }

    private static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMilliseconds}ms");
}
