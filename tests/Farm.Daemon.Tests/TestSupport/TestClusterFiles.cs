using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>
/// Writes cluster and module files for tests. Nodes n1..n4 have addresses 198.18.0.1..4 in the file (the parser refuses
/// loopback addresses) and run on 127.0.0.1..4 through <c>--address-map</c>.
/// </summary>
internal static class TestClusterFiles
{
    public const string Key = "farmd-test-cluster-key-0123456789";

    public static readonly string[] Nodes = ["n1", "n2", "n3", "n4"];

    public static string Write(string dir, string name, int grpcPort, int n4Weight = 100, string key = Key)
    {
        string path = Path.Combine(dir, name);
        string nodes = string.Concat(Nodes.Select((n, i) =>
            $"    - name: {n}\n      addresses: [198.18.0.{i + 1}]\n      weight: {(n == "n4" ? n4Weight : 100)}\n"));
        File.WriteAllText(path, $"""
            cluster:
              name: farmd-test
              key: "{key}"
              grpc_port: {grpcPort.ToString(CultureInfo.InvariantCulture)}
              console_port: {(grpcPort + 1).ToString(CultureInfo.InvariantCulture)}
              heartbeat:
                interval: 100ms
                detection_timeout: 1s
                lease: 600ms
              nodes:

            """ + nodes);
        return path;
    }

    public static void WriteModule(string modulesDir, string name, int buckets)
    {
        string dir = Path.Combine(modulesDir, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "farm.yaml"), $"""
            module:
              name: {name}
              vips: [198.18.100.1]
              interface: eth0
              mode: balance
              buckets: {buckets.ToString(CultureInfo.InvariantCulture)}
              rules:
                - {"{"} protocol: tcp, ports: 80, affinity: client_ip {"}"}

            """);
    }

    /// <summary>The loopback address node <paramref name="index"/> (0-based) runs on.</summary>
    public static IPAddress Loopback(int index) => IPAddress.Parse($"127.0.0.{index + 1}");

    /// <summary>The <c>--address-map</c> arguments for every node.</summary>
    public static IEnumerable<string> AddressMapArguments() =>
        Nodes.SelectMany((_, i) => new[] { "--address-map", $"198.18.0.{i + 1}=127.0.0.{i + 1}" });

    /// <summary>A TCP port free on 127.0.0.1..4 right now.</summary>
    public static int FreePort()
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (Nodes.Select((_, i) => Loopback(i)).All(a => IsFree(a, port)))
            {
                return port;
            }
        }

        throw new AssertFailedException("No free port on 127.0.0.1-4.");
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var l = new TcpListener(address, port);
            l.Start();
            l.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
