using System.Runtime.InteropServices;

namespace Farm.Testing.Topology;

/// <summary>
/// A switched LAN in network namespaces: one bridge namespace, N node namespaces and M client namespaces, each host
/// joined to the bridge by a veth pair. Nothing is created in the root namespace; everything is deleted on dispose,
/// when creation fails, and on SIGINT/SIGTERM (and by the next run's sweep after a kill -9).
/// </summary>
/// <remarks>
/// Address plan (all on one link, 198.18.0.0/16 and 2001:db8::/64): node i = 198.18.0.(1+i) and 2001:db8::(1+i);
/// client c, address k = 198.18.(1+c).(1+k) and 2001:db8::(1+c):(1+k); 198.18.0.100-199 and 2001:db8::100-1ff are
/// left free for VIPs. Inside every namespace IPv6 duplicate address detection is off, so link-local addresses work
/// at once, and the bridge neither snoops multicast nor runs STP, so it forwards from the first frame.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class FarmTopology : IAsyncDisposable
{
    /// <summary>Prefix length of the IPv4 LAN.</summary>
    public const int PrefixLength4 = 16;

    /// <summary>Prefix length of the IPv6 LAN.</summary>
    public const int PrefixLength6 = 64;

    private const string BridgeName = "br0";
    private readonly List<NetworkNamespace> namespaces;
    private readonly PosixSignalRegistration[] signals;
    private int disposed;

    private FarmTopology(NetworkNamespace bridge, List<NetworkNamespace> namespaces, IReadOnlyList<TopologyHost> nodes, IReadOnlyList<TopologyHost> clients)
    {
        Bridge = bridge;
        this.namespaces = namespaces;
        Nodes = nodes;
        Clients = clients;

        // Ctrl-C or a TERM: delete the namespaces synchronously before the runtime's default handling ends the process.
        signals = [PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => TearDownNow()), PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => TearDownNow())];
    }

    /// <summary>The namespace of the bridge that joins all hosts.</summary>
    public NetworkNamespace Bridge { get; }

    /// <summary>The node hosts, node0 first.</summary>
    public IReadOnlyList<TopologyHost> Nodes { get; }

    /// <summary>The client hosts, client0 first.</summary>
    public IReadOnlyList<TopologyHost> Clients { get; }

    /// <summary>Primary IPv4 address of node <paramref name="index"/>.</summary>
    public static IPAddress NodeAddress4(int index) => IPAddress.Parse(Inv($"198.18.0.{1 + index}"));

    /// <summary>Primary IPv6 address of node <paramref name="index"/>.</summary>
    public static IPAddress NodeAddress6(int index) => IPAddress.Parse(Inv($"2001:db8::{1 + index:x}"));

    /// <summary>Builds the topology; on any failure everything created so far is deleted before the exception propagates.</summary>
    public static async Task<FarmTopology> CreateAsync(TopologyOptions? options = null, CommandRunner? runner = null, CancellationToken cancellationToken = default)
    {
        options ??= new TopologyOptions();
        runner ??= CommandRunner.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Nodes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Nodes, 90);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Clients);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Clients, 50);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.AddressesPerClient, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.AddressesPerClient, 250);

        var created = new List<NetworkNamespace>();
        try
        {
            var bridge = await NewNamespaceAsync(created, runner, cancellationToken);
            await bridge.IpAsync(["link", "add", BridgeName, "type", "bridge", "stp_state", "0", "mcast_snooping", "0", "forward_delay", "0"], cancellationToken);
            await bridge.SetLinkUpAsync(BridgeName, cancellationToken);

            var nodes = new List<TopologyHost>();
            for (int i = 0; i < options.Nodes; i++)
            {
                var v4 = new[] { NodeAddress4(i) };
                var v6 = options.IPv6 ? new[] { NodeAddress6(i) } : [];
                nodes.Add(await AddHostAsync(created, runner, bridge, Inv($"node{i}"), Inv($"n{i}"), options, v4, v6, cancellationToken));
            }

            var clients = new List<TopologyHost>();
            for (int c = 0; c < options.Clients; c++)
            {
                var v4 = Enumerable.Range(0, options.AddressesPerClient).Select(k => IPAddress.Parse(Inv($"198.18.{1 + c}.{1 + k}"))).ToArray();
                var v6 = options.IPv6
                    ? Enumerable.Range(0, options.AddressesPerClient).Select(k => IPAddress.Parse(Inv($"2001:db8::{1 + c:x}:{1 + k:x}"))).ToArray()
                    : [];
                clients.Add(await AddHostAsync(created, runner, bridge, Inv($"client{c}"), Inv($"c{c}"), options, v4, v6, cancellationToken));
            }

            return new FarmTopology(bridge, created, nodes, clients);
        }
        catch
        {
            foreach (var ns in created)
            {
                await ns.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Deletes every namespace of the topology (and with them every veth and the bridge).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        foreach (var registration in signals)
        {
            registration.Dispose();
        }

        List<Exception>? failures = null;
        foreach (var ns in namespaces)
        {
            try
            {
                await ns.DisposeAsync();
            }
            catch (Exception e) when (e is CommandFailedException or TimeoutException)
            {
                (failures ??= []).Add(e);
            }
        }

        if (failures is not null)
        {
            throw new AggregateException("Some topology namespaces could not be deleted.", failures);
        }
    }

    private void TearDownNow()
    {
        if (Volatile.Read(ref disposed) != 0)
        {
            return;
        }

        foreach (var ns in namespaces)
        {
            try
            {
                ns.Dispose();
            }
            catch (Exception e) when (e is CommandFailedException or TimeoutException or ObjectDisposedException)
            {
                // Best effort while the process dies; the next run's sweep removes what is left.
            }
        }
    }

    private static async Task<NetworkNamespace> NewNamespaceAsync(List<NetworkNamespace> created, CommandRunner runner, CancellationToken cancellationToken)
    {
        var ns = await NetworkNamespace.CreateAsync(runner, cancellationToken);
        created.Add(ns);

        // The namespace's own defaults, before any interface exists: no DAD (link-local usable at once), lo up.
        await ns.ExecAsync(ToolLocator.Require("sysctl", "procps"), ["-q", "-w", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"], cancellationToken: cancellationToken);
        await ns.SetLinkUpAsync("lo", cancellationToken);
        return ns;
    }

    private static async Task<TopologyHost> AddHostAsync(
        List<NetworkNamespace> created,
        CommandRunner runner,
        NetworkNamespace bridge,
        string name,
        string bridgePort,
        TopologyOptions options,
        IReadOnlyList<IPAddress> addresses4,
        IReadOnlyList<IPAddress> addresses6,
        CancellationToken cancellationToken)
    {
        var ns = await NewNamespaceAsync(created, runner, cancellationToken);
        await ns.AddVethPairAsync(options.InterfaceName, bridge, bridgePort, cancellationToken);
        await bridge.IpAsync(["link", "set", "dev", bridgePort, "master", BridgeName, "up"], cancellationToken);

        // One `ip -batch` for all addresses: a client may hold hundreds.
        var batch = new StringBuilder();
        foreach (var address in addresses4.Concat(addresses6))
        {
            TestAddresses.Require(address);
            bool v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
            batch.Append(Inv($"address add {address}/{(v6 ? PrefixLength6 : PrefixLength4)} dev {options.InterfaceName}{(v6 ? " nodad" : string.Empty)}\n"));
        }

        batch.Append(Inv($"link set dev {options.InterfaceName} up\n"));
        await runner.RunAsync(ToolLocator.Require("ip", "iproute2"), ["-n", ns.Name, "-batch", "-"], batch.ToString(), cancellationToken: cancellationToken);
        return new TopologyHost(name, ns, options.InterfaceName, addresses4, addresses6);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
