using Farm.Core.Buckets;
using Farm.Daemon.Drain;
using Farm.Daemon.Telemetry;
using Farm.DataPlane.Conntrack;
using Farm.Protocol.Tls;

namespace Farm.Daemon.Hosting;

/// <summary>
/// The parts of one node wired together: membership host, transport, security, the two services, the data plane and
/// the witness prober.
/// </summary>
internal sealed class FarmNode : IDisposable
{
    public FarmNode(DaemonSettings settings, ClusterTls? tls, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Settings = settings;
        Tls = tls;
        var cluster = settings.Cluster;
        var options = OptionsOf(cluster) with { TracksDrains = settings.DataPlane == DataPlaneMode.Kernel && OperatingSystem.IsLinux() };
        var modules = settings.Modules.Select(SpecOf).ToList();
        // No module is ready at start: each module's traffic gate announces it once its state machine is UP/Ready (and
        // only if its data plane runs), so a node never gets buckets of an application that does not run here.
        var self = new MemberInfo(settings.Self.Name, settings.Incarnation, settings.Self.Weight, settings.Self.Priority, false, []);

        Host = new MembershipHost(options, self, cluster.ComputeHash(), modules, timeProvider, loggerFactory);
        var realtime = new Farm.Native.Linux.RealtimeThread();
        Host.UseRealtimePriority(realtime);
        Host.UseReaderProbe(new ThreadPoolReaderProbe(() => Host.Now));
        Rejections = new RejectionLog(timeProvider, loggerFactory.CreateLogger<RejectionLog>());
        Authenticator = new EnvelopeAuthenticator(new EnvelopeCodec(cluster.Key), self.Name, self.Incarnation, timeProvider, Rejections, settings.Protocols);
        PeerGuard = new ReplayGuard();
        var peers = cluster.Nodes.Where(n => n.Name != self.Name).ToDictionary(n => n.Name, settings.EndpointsOf, StringComparer.Ordinal);
        var channels = DaemonHost.ChannelsFor(tls);
        Transport = new PeerTransport(peers, Host, Authenticator, PeerGuard, channels, timeProvider, loggerFactory.CreateLogger<PeerTransport>());
        Host.Attach(Transport);
        Membership = new MembershipService(
            Host, Authenticator, PeerGuard, peers.Keys, requirePeerCertificate: tls is not null, loggerFactory.CreateLogger<MembershipService>())
        {
            ServesHeartbeatStream = settings.ServesHeartbeatStream,
            AnswersEveryHeartbeat = settings.AnswersEveryHeartbeat,
        };
        // Heartbeats as datagrams where a peer's path carries them (not with TLS: datagrams would bypass it).
        if (tls is null && settings.HeartbeatDatagrams)
        {
            Datagrams = new HeartbeatDatagrams(settings.EndpointsOf(settings.Self), peers, realtime, loggerFactory.CreateLogger<HeartbeatDatagrams>())
            {
                Serve = Membership.ServeDatagram,
                Foreign = source => Rejections.Record(source, RejectReason.ForeignAddress, "datagram", ""),
            };
            Transport.UseDatagrams(Datagrams);
        }

        // A refused module (its folder is not root's own) gets no data plane: its farm.yaml could name any address.
        var trusted = settings.Modules.Where(m => !settings.RefusedModules.ContainsKey(m.Name)).ToList();
        if (settings.DataPlane == DataPlaneMode.Kernel)
        {
            // Its own ctnetlink socket and thread: it deletes while the drain monitor reads on its own.
            StaleEntries = OperatingSystem.IsLinux()
                ? new StaleEntryCleaner(new NetlinkConntrackTable(loggerFactory.CreateLogger<NetlinkConntrackTable>()), loggerFactory.CreateLogger<StaleEntryCleaner>())
                : null;
            DataPlane = new DataPlaneHost(
                trusted, new KernelDataPlaneBackend(settings.StateDirectory, timeProvider, loggerFactory), loggerFactory.CreateLogger<DataPlaneHost>())
            {
                Cleaner = StaleEntries,
                Time = timeProvider,
            };
            Host.AttachSink(DataPlane);

            // Half an interval: a drain ends within one heartbeat interval of its last connection's close.
            var period = options.HeartbeatInterval / 2 > TimeSpan.FromMilliseconds(10) ? options.HeartbeatInterval / 2 : TimeSpan.FromMilliseconds(10);
            if (OperatingSystem.IsLinux())
            {
                Drains = new DrainMonitor(
                    DataPlane, Host, trusted, new NetlinkConntrackTable(loggerFactory.CreateLogger<NetlinkConntrackTable>()), period, loggerFactory.CreateLogger<DrainMonitor>());
            }
        }

        // After the data plane: a single module's owner runs start_prim only once the kernel holds the new sets.
        Telemetry = new NodeTelemetry(Host, cluster.Lans, timeProvider, loggerFactory.CreateLogger<NodeTelemetry>());
        Modules = new ModuleHost(settings.BindModuleHosting(), Host, DataPlane, timeProvider, loggerFactory, Telemetry.Modules) { Drains = Drains };
        Host.AttachSink(Modules);
        Host.AttachSink(Telemetry.View);
        Transport.RoundTrips.Observer = Telemetry.RoundTrips.Observe;

        if (cluster.SplitBrain.Policy == SplitBrainPolicy.Witness && cluster.SplitBrain.Witness is { } witness)
        {
            Witness = new WitnessProber(
                settings.Map(witness), options.HeartbeatInterval, Host, new IcmpWitnessPing(), timeProvider, loggerFactory.CreateLogger<WitnessProber>(), realtime);
        }

        Drain = new DrainSwitch(Host, DrainSwitch.FileOf(settings.StateDirectory, settings.Self.Name));
        Reloader = new ClusterReloader(settings.BindClusterFile(), Host, loggerFactory.CreateLogger<ClusterReloader>());
        ReloadSignal = new ReloadSignal(Reloader, loggerFactory.CreateLogger<ReloadSignal>());
        Status = new StatusBuilder(cluster, () => Modules.Modules, Host, PeerGuard, Rejections, Modules, Reloader, Drain, Transport.RoundTrips);
        Telemetry.Observe(Status, DataPlane);
        var roster = settings.BindRoster();
        Relay = new AdminRelay(roster, Authenticator, PeerGuard.IncarnationOf, channels, timeProvider);
        var moduleControl = new ModuleControl(roster, Modules, Relay);
        var drainControl = new DrainControl(roster, () => Modules.Modules, Drain, Host, Relay, loggerFactory.CreateLogger<DrainControl>());
        var configApply = new ConfigApplyControl(roster, Reloader, Relay, new ConfigTextCipher(cluster.Key));
        var store = settings.ModulesDirectory is { } modulesDirectory && !OperatingSystem.IsWindows() ? new ModuleStore(modulesDirectory, Farm.Native.Linux.StatxFileInspector.Instance) : null;
        var folderReload = settings.ModulesDirectory is { } folder ? new ModuleFolderReload(
            folder, Farm.Native.Linux.StatxFileInspector.Instance, settings.AllowUntrustedModules, () => (settings.ClusterFile, Reloader.Running), Modules,
            loggerFactory.CreateLogger<ModuleFolderReload>()) : null;
        Packages = new ModulePackageControl(roster, store, folderReload, Modules, Relay, loggerFactory.CreateLogger<ModulePackageControl>());
        Admin = new AdminService(Status, Authenticator, timeProvider, Modules, moduleControl, drainControl, configApply, Packages);
        ConsoleActions = new Web.ConsoleActions(drainControl, moduleControl, configApply, Reloader);
    }

    public DaemonSettings Settings { get; }

    /// <summary>This node's TLS identity and the cluster CA; null without <c>tls</c> in the cluster file.</summary>
    public ClusterTls? Tls { get; }

    public MembershipHost Host { get; }

    public RejectionLog Rejections { get; }

    public EnvelopeAuthenticator Authenticator { get; }

    public ReplayGuard PeerGuard { get; }

    public PeerTransport Transport { get; }

    public MembershipService Membership { get; }

    /// <summary>Heartbeats as UDP datagrams (<see cref="HeartbeatDatagrams"/>); null with TLS or when switched off for a test.</summary>
    public HeartbeatDatagrams? Datagrams { get; }

    /// <summary>The data plane of every module; null with <c>--data-plane off</c>.</summary>
    public DataPlaneHost? DataPlane { get; }

    /// <summary>Deletes the conntrack entries the data plane may no longer trust; null with <c>--data-plane off</c>.</summary>
    public StaleEntryCleaner? StaleEntries { get; }

    /// <summary>Reports drain progress from the kernel's connection tracking; null with <c>--data-plane off</c>.</summary>
    public DrainMonitor? Drains { get; }

    /// <summary>The module managers, their traffic gates and logs.</summary>
    public ModuleHost Modules { get; }

    /// <summary>Relays admin actions (module actions, drains, config applies) to other nodes.</summary>
    public AdminRelay Relay { get; }

    /// <summary>Installs, rolls back and removes module bundles (farmctl module install/rollback/remove/list).</summary>
    public ModulePackageControl Packages { get; }

    /// <summary>Whether this node announces leaving: an admin drain, a shutdown.</summary>
    public DrainSwitch Drain { get; }

    /// <summary>The running cluster file and its live changes (config apply, SIGHUP).</summary>
    public ClusterReloader Reloader { get; }

    /// <summary>Re-reads the cluster file on SIGHUP once started.</summary>
    public ReloadSignal ReloadSignal { get; }

    /// <summary>The witness prober; null unless the split-brain policy is <c>witness</c>.</summary>
    public WitnessProber? Witness { get; }

    public StatusBuilder Status { get; }

    /// <summary>This node's metrics (<c>/metrics</c> on the console port).</summary>
    public NodeTelemetry Telemetry { get; }

    public AdminService Admin { get; }

    /// <summary>The web console's actions: the admin calls farmctl makes, run through the same controls.</summary>
    public Web.ConsoleActions ConsoleActions { get; }

    /// <summary>The membership options of a cluster file.</summary>
    public static MembershipOptions OptionsOf(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return new MembershipOptions
        {
            Heartbeat = cluster.Heartbeat,
            SplitBrainPolicy = cluster.SplitBrain.Policy,
            ConfiguredNodes = [.. cluster.Nodes.Select(n => n.Name)],
            LanCount = cluster.Lans.Count,
        };
    }

    /// <summary>The part of a module's configuration that shapes its bucket table.</summary>
    public static ModuleSpec SpecOf(ModuleConfig module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new ModuleSpec(module.Name, module.Buckets, module.Mode == ModuleMode.Single ? BucketMode.Single : BucketMode.Balance, module.Failback)
        {
            DrainTimeout = module.Timeouts.Drain,
            Hash = module.ComputeHash(),
            Settings = [.. ModuleConfigHasher.Lines(module)],
        };
    }

    /// <summary>True when the installed view gives this node no bucket of any module (or there is no view).</summary>
    public bool HoldsNoBuckets() => Host.Read((m, _) =>
        m.Installed is not { } view || view.Tables.Values.All(t => t.CountOf(m.Self.Name) == 0));

    public void Dispose()
    {
        // Idempotent steps: the lifecycle normally did all of this; after a failed start only this runs.
        ReloadSignal.Dispose();
        Witness?.Dispose();
        Host.Dispose();
        Datagrams?.Dispose();
        Transport.Dispose();
        Relay.Dispose();
        Packages.Dispose();

        // Ends the managers' loops; the applications were stopped by the lifecycle (or never started).
        Modules.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Drains?.Dispose();
        DataPlane?.Dispose();
        StaleEntries?.Dispose(); // after the data plane stopped: no apply uses it any more
        Tls?.Dispose();
    }
}
