using Farm.Core.Hashing;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>
/// The loopback cluster of these tests. Nodes n1..n4 have addresses 198.18.0.1..4 in the file (the parser refuses
/// loopback addresses) and run on 127.0.0.1..4 through <c>--address-map</c>; files are written by
/// <see cref="FarmConfigFiles"/>.
/// </summary>
internal static class TestClusterFiles
{
    public const string Key = "farmd-test-cluster-key-0123456789";

    public static readonly string[] Nodes = ["n1", "n2", "n3", "n4"];

    /// <summary>198.18.0.i+1 (in the file) to 127.0.0.i+1 (bound and dialed).</summary>
    public static IReadOnlyDictionary<IPAddress, IPAddress> AddressMap { get; } =
        Nodes.Select((_, i) => i).ToDictionary(i => FileAddress(i), Loopback);

    /// <summary>
    /// Writes the cluster file; <paramref name="n4Priority"/> other than 0 gives a file with another configuration hash;
    /// <paramref name="consoleUsers"/> names the web console's users file (default: the default path).
    /// </summary>
    public static string Write(string dir, string name, int grpcPort, int n4Priority = 0, string key = Key, string? consoleUsers = null)
    {
        var cluster = new ClusterConfig
        {
            Name = "farmd-test",
            Key = key,
            GrpcPort = grpcPort,
            ConsolePort = grpcPort + 1,
            ConsoleUsers = consoleUsers ?? ClusterConfig.DefaultConsoleUsers,
            Heartbeat = new HeartbeatOptions
            {
                Interval = TimeSpan.FromMilliseconds(100),
                DetectionTimeout = TimeSpan.FromSeconds(1),
                Lease = TimeSpan.FromMilliseconds(600),
            },
            Nodes = [.. Nodes.Select((n, i) => new NodeConfig { Name = n, Addresses = [FileAddress(i)], Priority = n == "n4" ? n4Priority : 0 })],
        };
        return FarmConfigFiles.WriteCluster(cluster, Path.Combine(dir, name));
    }

    /// <summary>Writes <c>MODULESDIR/NAME/farm.yaml</c> and returns the module as farmd reads it from there.</summary>
    public static ModuleConfig WriteModule(string modulesDir, string name, int buckets, string vip = "198.18.100.1")
    {
        string path = FarmConfigFiles.WriteModule(
            new ModuleConfig
            {
                Name = name,
                Vips = [IPAddress.Parse(vip)],
                Interface = "eth0",
                Buckets = buckets,
                Rules = [new PortRuleConfig { Protocol = TransportProtocol.Tcp, FirstPort = 80, LastPort = 80, Affinity = Affinity.ClientIp }],
            },
            modulesDir);
        return ConfigParser.ParseModule(File.ReadAllText(path), path).Value!;
    }

    /// <summary>How to launch node <paramref name="name"/> on loopback, its admin socket in <paramref name="dir"/> (no data plane).</summary>
    public static FarmdOptions Farmd(string clusterFile, string name, string dir) => new()
    {
        ClusterFile = clusterFile,
        Node = name,
        AdminSocket = Path.Combine(dir, name + ".sock"),
        AddressMap = AddressMap,
    };

    /// <summary>The loopback address node <paramref name="index"/> (0-based) runs on.</summary>
    public static IPAddress Loopback(int index) => IPAddress.Parse($"127.0.0.{index + 1}");

    /// <summary>A TCP port free on 127.0.0.1..4 right now, with the next one (the console port).</summary>
    public static int FreePort() => LoopbackPorts.FreeOn(Nodes.Length, consecutive: 2);

    private static IPAddress FileAddress(int index) => IPAddress.Parse($"198.18.0.{index + 1}");

}
