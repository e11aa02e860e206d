namespace Farm.DataPlane.Tests.Kernel;

/// <summary>
/// One node of a test farm: the real data plane (nft filter, VIP manager, ARP/NDP responder) driven on a thread inside
/// the node's namespace, plus tiny TCP and UDP servers that answer with the node's name.
/// </summary>
internal sealed class FarmNode(TopologyHost host, ModuleConfig module, string stateDirectory, TestLogSink logs) : IAsyncDisposable
{
    private LibNftablesClient? client;
    private NftablesPacketFilter? filter;
    private VipManager? vips;
    private NeighborResponder? responder;
    private NameServer? server;

    public TopologyHost Host { get; } = host;

    public ModuleConfig Module { get; } = module;

    public string StateDirectory { get; } = stateDirectory;

    public TestLogSink Logs { get; } = logs;

    public string Name => Host.Name;

    public NeighborResponder Responder => responder ?? throw new InvalidOperationException("Not started.");

    /// <summary>Installs the filter (fail-closed), binds the VIPs, starts the responder and the servers; all inside the namespace.</summary>
    public async Task StartAsync(BucketAssignment assignment, TimeSpan lease, int[] tcpPorts, int udpPort)
    {
        await Host.Namespace.RunAsync(() =>
        {
            // Created on this thread: the libnftables socket and the pcap socket live in the node's namespace.
            StartFilter(assignment, lease);
            vips = new VipManager(StateDirectory, Logs.CreateLogger<VipManager>());
            vips.Start(Module);
            responder = NeighborResponder.Open(Module, TimeProvider.System, Logs.CreateLogger<NeighborResponder>());
            responder.Start();
        });

        // UDP bound to the VIPs themselves, so replies leave with the VIP as source address.
        server = await NameServer.StartAsync(Host.Namespace, Name, tcpPorts, Module.Vips.Select(v => new IPEndPoint(v, udpPort)));
    }

    /// <summary>
    /// What the kernel sees when farmd is killed: the filter's netlink socket closes without removing anything (the
    /// tables stay, the live table the socket owned goes), then a new filter takes over as a restarted farmd would.
    /// </summary>
    public Task AbandonFilterAsync() => Host.Namespace.RunAsync(() => client!.Dispose());

    /// <summary>A new filter (a restarted daemon) installed with <paramref name="assignment"/> and <paramref name="lease"/>.</summary>
    public Task RestartFilterAsync(BucketAssignment assignment, TimeSpan lease) => Host.Namespace.RunAsync(() => StartFilter(assignment, lease));

    public Task ApplyAsync(BucketAssignment assignment) => Host.Namespace.RunAsync(() => filter!.Apply(assignment));

    public Task RefreshLeaseAsync(TimeSpan lease) => Host.Namespace.RunAsync(() => filter!.RefreshLease(lease));

    /// <summary>Runs <paramref name="action"/> with the node's filter on a thread inside the node's namespace.</summary>
    public Task<T> WithFilterAsync<T>(Func<NftablesPacketFilter, T> action) => Host.Namespace.RunAsync(() => action(filter!));

    public Task<FilterCounters> ReadCountersAsync() => Host.Namespace.RunAsync(() => filter!.ReadCounters());

    private void StartFilter(BucketAssignment assignment, TimeSpan lease)
    {
        // Created on this thread: the libnftables socket lives in the node's namespace.
        client = new LibNftablesClient();
        filter = new NftablesPacketFilter(client, Logs.CreateLogger<NftablesPacketFilter>());
        filter.Install(Module);
        filter.Apply(assignment);
        filter.RefreshLease(lease);
    }

    /// <summary>Stops the servers, the responder, the VIP manager and removes the filter, in the daemon's stop order.</summary>
    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        await Host.Namespace.RunAsync(() =>
        {
            responder?.Dispose();
            vips?.Stop();
            filter?.Dispose();
        });
    }
}
