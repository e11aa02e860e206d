using System.Net;
using System.Net.Sockets;
using System.Text;
using Farm.Core.Config;
using Farm.DataPlane.Addressing;
using Farm.DataPlane.Filtering;
using Farm.DataPlane.Neighbors;
using Farm.DataPlane.Tests.TestSupport;
using Farm.Testing.Topology;

namespace Farm.DataPlane.Tests.Kernel;

/// <summary>
/// One node of a test farm: the real data plane (nft filter, VIP manager, ARP/NDP responder) driven on a thread inside
/// the node's namespace, plus tiny TCP and UDP servers that answer with the node's name.
/// </summary>
internal sealed class FarmNode : IAsyncDisposable
{
    private readonly List<Socket> listeners = [];
    private readonly CancellationTokenSource stopping = new();
    private NftablesPacketFilter? filter;
    private VipManager? vips;
    private NeighborResponder? responder;

    public FarmNode(TopologyHost host, ModuleConfig module, string stateDirectory, RecordingLoggerFactory logs)
    {
        Host = host;
        Module = module;
        StateDirectory = stateDirectory;
        Logs = logs;
    }

    public TopologyHost Host { get; }

    public ModuleConfig Module { get; }

    public string StateDirectory { get; }

    public RecordingLoggerFactory Logs { get; }

    public string Name => Host.Name;

    public NeighborResponder Responder => responder ?? throw new InvalidOperationException("Not started.");

    /// <summary>Installs the filter (fail-closed), binds the VIPs, starts the responder and the servers; all inside the namespace.</summary>
    public Task StartAsync(BucketAssignment assignment, TimeSpan lease, int[] tcpPorts, int udpPort) => Host.Namespace.RunAsync(() =>
    {
        // Created on this thread: the libnftables socket, the pcap socket and the server sockets all live in the node's namespace.
        filter = new NftablesPacketFilter(Logs.CreateLogger<NftablesPacketFilter>());
        filter.Install(Module);
        filter.Apply(assignment);
        filter.RefreshLease(lease);
        vips = new VipManager(StateDirectory, Logs.CreateLogger<VipManager>());
        vips.Start(Module);
        responder = NeighborResponder.Open(Module, TimeProvider.System, Logs.CreateLogger<NeighborResponder>());
        responder.Start();
        foreach (int port in tcpPorts)
        {
            var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            listener.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            listener.Listen(512);
            listeners.Add(listener);
        }

        foreach (var vip in Module.Vips)
        {
            // Bound to the VIP itself, so replies leave with the VIP as source address.
            var udp = new Socket(vip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(vip, udpPort));
            listeners.Add(udp);
        }
    }).ContinueWith(
        t =>
        {
            t.GetAwaiter().GetResult();
            foreach (var socket in listeners)
            {
                _ = socket.SocketType == SocketType.Stream ? AcceptLoopAsync(socket) : UdpLoopAsync(socket);
            }
        },
        TaskScheduler.Default);

    public Task ApplyAsync(BucketAssignment assignment) => Host.Namespace.RunAsync(() => filter!.Apply(assignment));

    public Task RefreshLeaseAsync(TimeSpan lease) => Host.Namespace.RunAsync(() => filter!.RefreshLease(lease));

    /// <summary>Runs <paramref name="action"/> with the node's filter on a thread inside the node's namespace.</summary>
    public Task<T> WithFilterAsync<T>(Func<NftablesPacketFilter, T> action) => Host.Namespace.RunAsync(() => action(filter!));

    public Task<FilterCounters> ReadCountersAsync() => Host.Namespace.RunAsync(() => filter!.ReadCounters());

    /// <summary>Stops the servers, the responder, the VIP manager and removes the filter, in the daemon's stop order.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        foreach (var socket in listeners)
        {
            socket.Dispose();
        }

        await Host.Namespace.RunAsync(() =>
        {
            responder?.Dispose();
            vips?.Stop();
            filter?.Dispose();
        });
        stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var connection = await listener.AcceptAsync(stopping.Token);
                _ = ServeAsync(connection);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        using (connection)
        {
            byte[] name = Encoding.ASCII.GetBytes(Name + "\n");
            byte[] buffer = new byte[256];
            try
            {
                // One answer at once, then one per received chunk: enough for "who answers this connection".
                await connection.SendAsync(name, stopping.Token);
                while (await connection.ReceiveAsync(buffer, stopping.Token) > 0)
                {
                    await connection.SendAsync(name, stopping.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }
    }

    private async Task UdpLoopAsync(Socket socket)
    {
        byte[] name = Encoding.ASCII.GetBytes(Name);
        byte[] buffer = new byte[256];
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetwork ? new IPEndPoint(IPAddress.Any, 0) : new IPEndPoint(IPAddress.IPv6Any, 0);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var received = await socket.ReceiveFromAsync(buffer, any, stopping.Token);
                await socket.SendToAsync(name, received.RemoteEndPoint, stopping.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }
}
