namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// Runs every module of this node: one <see cref="ModuleManager"/> per module with its <see cref="ModuleTrafficGate"/>
/// and log buffer; boots them once the data plane is up, forwards admin requests, tells <c>single</c> modules when the
/// installed view makes this node their owner (it is an ownership sink, after the data plane), and stops them on
/// shutdown.
/// </summary>
/// <remarks>
/// A module whose data plane could not start is not booted: it could run its application but never serve, so it stays
/// STOP/NotReady with the data plane's reason and an admin start is refused.
/// </remarks>
internal sealed partial class ModuleHost : IOwnershipSink, IAsyncDisposable
{
    private static readonly string[] StartScripts = [.. ScriptConfig.KnownScripts.Where(ScriptConfig.IsStartScript)];
    private static readonly string[] StopScripts = [.. ScriptConfig.KnownScripts.Where(s => !ScriptConfig.IsStartScript(s))];

    private readonly ModuleHostingOptions settings;
    private readonly MembershipHost host;
    private readonly DataPlaneHost? dataPlane;
    private readonly TimeProvider time;
    private readonly ILoggerFactory loggerFactory;
    private readonly ILogger logger;
    private readonly Lock primaryLock = new();
    private ImmutableList<Entry> entries;
    private readonly IModuleObserver? observer;
    private int disposed;

    public ModuleHost(ModuleHostingOptions settings, MembershipHost host, DataPlaneHost? dataPlane, TimeProvider timeProvider, ILoggerFactory loggerFactory, IModuleObserver? observer = null)
    {
        this.observer = observer;
        this.settings = settings ?? throw new ArgumentNullException(nameof(settings));
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.dataPlane = dataPlane;
        time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        logger = loggerFactory.CreateLogger<ModuleHost>();
        entries = [.. settings.Modules.Select(CreateEntry)];
    }

    /// <summary>The modules of this node (configured at start, then loaded live), in start order.</summary>
    public IReadOnlyList<ModuleConfig> Modules => [.. entries.Select(e => e.Config)];

    /// <summary>Drain scans of the kernel data plane (told when a module is loaded or redefined live); null without one.</summary>
    public DrainMonitor? Drains { get; init; }

    /// <summary>
    /// The longest a shutdown may spend stopping modules (they stop in parallel): for the slowest module, a running
    /// start script finishing, the gate's close, and stop_prim, stop_both and poststop each with its forced run.
    /// </summary>
    public static TimeSpan StopBound(IReadOnlyList<ModuleConfig> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        TimeSpan longest = TimeSpan.Zero;
        foreach (var m in modules)
        {
            TimeSpan start = StartScripts.Max(m.ScriptTimeout) + m.Timeouts.StopForce;
            TimeSpan stops = StopScripts.Aggregate(TimeSpan.Zero, (sum, s) => sum + m.ScriptTimeout(s) + m.Timeouts.StopForce);
            TimeSpan bound = start + m.Timeouts.Drain + ModuleHostOptions.DefaultGateConfirmTimeout + stops;
            longest = bound > longest ? bound : longest;
        }

        return longest;
    }

    /// <summary>Starts every module whose data plane runs (or with <c>--data-plane off</c>): "boot".</summary>
    public void Boot()
    {
        foreach (var entry in entries)
        {
            if (settings.Refused.TryGetValue(entry.Config.Name, out string? refusal))
            {
                Log.Refused(entry.Logger, entry.Config.Name, refusal);
                continue;
            }

            if (DataPlaneOf(entry.Config) is { } problem and not ("running" or "off"))
            {
                Log.NotBooted(entry.Logger, entry.Config.Name, problem);
                continue;
            }

            Manager(entry).Start("boot");
        }
    }

    /// <summary>Stops every running module and waits for all of them (for shutdown); each module's failure is logged, not thrown.</summary>
    public async Task StopAllAsync(string reason, CancellationToken cancellationToken)
    {
        var stops = entries.Where(e => e.Manager is not null).Select(async e =>
        {
            try
            {
                var status = await e.Manager!.StopAndWaitAsync(reason, cancellationToken);
                Log.StoppedForShutdown(logger, e.Config.Name, status.ToString());
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Log.StopTimedOut(logger, e.Config.Name, e.Manager!.Status.ToString());
            }
        });
        await Task.WhenAll(stops);
    }

    /// <summary>Every module as status shows it.</summary>
    public IReadOnlyList<ModuleRuntime> Snapshot() => [.. entries.Select(Runtime)];

    /// <summary>The module's log buffer, or null for an unknown module.</summary>
    public ModuleLogBuffer? LogsOf(string module) => entries.FirstOrDefault(e => e.Config.Name == module)?.Buffer;

    /// <summary>
    /// Asks module <paramref name="module"/> to start, stop or restart and returns its status once the manager took the
    /// request, or, when <paramref name="wait"/> is positive, once no transition is in progress (Settled) or the wait ended.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown module, or one that cannot run on this node (its message says why).</exception>
    public async Task<(ModuleRuntime Module, bool Settled)> ControlAsync(string module, ModuleAdminAction action, string reason, TimeSpan wait, CancellationToken cancellationToken)
    {
        var entry = entries.FirstOrDefault(e => e.Config.Name == module)
            ?? throw new ArgumentException($"unknown module '{module}' (modules: {(entries.Count == 0 ? "none" : string.Join(", ", entries.Select(e => e.Config.Name)))})");
        if (settings.Refused.TryGetValue(module, out string? refusal))
        {
            throw new ArgumentException($"module '{module}' cannot run on this node: it is refused because {refusal}");
        }

        if (entry.Removed)
        {
            throw new ArgumentException($"module '{module}' was removed from this node (farmctl module remove): install it again with farmctl module install");
        }

        if (DataPlaneOf(entry.Config) is { } problem and not ("running" or "off" or "stopped"))
        {
            throw new ArgumentException($"module '{module}' cannot run on this node: its data plane is {problem}");
        }

        var manager = Manager(entry);
        Log.AdminRequest(entry.Logger, module, action.ToString().ToLowerInvariant(), reason);
        entry.DataPlaneStop?.Cancel(); // a start or another stop supersedes a stop still waiting to remove the data plane
        entry.DataPlaneStop = null;
        if (action == ModuleAdminAction.Stop)
        {
            manager.Stop(reason);
            entry.DataPlaneStop = new CancellationTokenSource();
            _ = RemoveDataPlaneWhenStoppedAsync(entry, manager, entry.DataPlaneStop.Token);
        }
        else
        {
            try
            {
                dataPlane?.StartModule(module); // a module an admin stopped gets its filter, VIPs and responder back first
            }
            catch (InvalidOperationException ex)
            {
                throw new ArgumentException($"module '{module}' cannot run on this node: {ex.Message}", ex);
            }

            if (action == ModuleAdminAction.Start)
            {
                manager.Start(reason);
            }
            else
            {
                manager.Restart(reason);
            }
        }

        await manager.FlushAsync(cancellationToken); // the request is in the state machine: Status reflects it
        bool settled = manager.Status.SubState != ModuleSubState.Transient;
        if (wait > TimeSpan.Zero && !settled)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(wait);
            try
            {
                await manager.WaitForStatusAsync(s => s.SubState != ModuleSubState.Transient, bounded.Token);
                settled = true;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // the wait ended first: report the state now
            }
        }

        return (Runtime(entry), settled);
    }

    /// <inheritdoc />
    public void Publish(OwnershipSnapshot snapshot) => EvaluatePrimaries();

    /// <inheritdoc />
    public void RefreshLease(TimeSpan duration)
    {
        // The data plane's business.
    }

    /// <inheritdoc />
    public bool RefreshesLeaseInline => true;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        foreach (var entry in entries)
        {
            if (entry.Manager is { } manager)
            {
                manager.StatusChanged -= OnStatusChanged;
                await manager.DisposeAsync();
            }

            entry.File?.Dispose();
        }
    }

    /// <summary>
    /// Mode single: compares, for every booted single module, whether the installed view makes this node its owner
    /// (<see cref="PrimaryRule"/>) with what was last asked of the manager, and asks again when it differs. Called on
    /// every ownership change (the data plane has applied it already) and on every module status change.
    /// </summary>
    internal void EvaluatePrimaries()
    {
        if (!entries.Any(e => e.Config.Mode == ModuleMode.Single && e.Manager is not null))
        {
            return;
        }

        var (self, installed, ownership) = host.Read((m, _) => (m.Self.Name, m.Installed, m.Ownership));
        lock (primaryLock)
        {
            foreach (var entry in entries)
            {
                if (entry.Config.Mode != ModuleMode.Single || entry.Manager is not { } manager)
                {
                    continue;
                }

                string name = entry.Config.Name;
                if (installed is not null && !Equals(installed.Id, entry.SeenView))
                {
                    entry.SeenView = installed.Id;
                    string? owner = installed.Tables.TryGetValue(name, out var table) && table.BucketCount > 0 ? table.OwnerOf(0) : null;
                    if (owner != entry.CurrentOwner)
                    {
                        entry.PreviousOwner = entry.CurrentOwner;
                        entry.CurrentOwner = owner;
                    }
                }

                bool want = PrimaryRule.ShouldBePrimary(self, name, installed, ownership.Modules.GetValueOrDefault(name)?.Incoming ?? 0, entry.PreviousOwner);
                var status = manager.Status;
                bool ask = want != entry.AskedPrimary || (want && status.IsReadyForTraffic && !status.IsPrimary && status.Step is null);
                if (!ask)
                {
                    continue;
                }

                entry.AskedPrimary = want;
                if (want)
                {
                    Log.BecomingPrimary(entry.Logger, name, installed?.Id.Epoch ?? 0);
                    manager.BecomePrimary();
                }
                else
                {
                    Log.NoLongerOwner(entry.Logger, name, entry.CurrentOwner ?? "nobody", installed?.Id.Epoch ?? 0);
                    manager.StopBeingPrimary();
                }
            }
        }
    }

    /// <summary>
    /// After an admin stop: once the module is stopped (its gate closed, so its buckets went to the peers, then its stop
    /// scripts ran), removes its data plane so nothing of it is left on the node. A later start or stop cancels it.
    /// </summary>
    private async Task RemoveDataPlaneWhenStoppedAsync(Entry entry, ModuleManager manager, CancellationToken cancellationToken)
    {
        try
        {
            await manager.FlushAsync(cancellationToken);
            await manager.WaitForStatusAsync(s => s.IsStopped, cancellationToken);
            if (!cancellationToken.IsCancellationRequested)
            {
                dataPlane?.StopModule(entry.Config.Name);
            }
        }
        catch (OperationCanceledException)
        {
            // started again meanwhile, or farmd stopping: its own stop removes everything
        }
    }

    private Entry CreateEntry(ModuleConfig config)
    {
        var file = settings.LogDirectory is { } dir ? new ModuleLogFile(dir, config.Name) : null;
        var buffer = new ModuleLogBuffer(config.Name, sink: file is null ? null : file.Write);
        var factory = new ModuleLoggerFactory(loggerFactory, buffer, time);
        var gate = new ModuleTrafficGate(config, host, dataPlane, time, factory.CreateLogger<ModuleTrafficGate>());
        string directory = settings.DirectoryOf(config.Name);
        return new Entry(config, directory, buffer, factory, gate, factory.CreateLogger<ModuleHost>(), file, time.GetUtcNow())
        {
            Definition = ModuleFolders.Read(Path.Combine(directory, ModuleFolders.DefinitionFile)).Text,
        };
    }

    private ModuleManager Manager(Entry entry)
    {
        lock (entry)
        {
            if (entry.Manager is null)
            {
                var options = new ModuleHostOptions { NodeName = settings.NodeName, ModuleDirectory = entry.Directory, Observer = observer, ScriptNiceAdjustment = settings.ScriptNiceAdjustment };
                entry.Manager = ModuleManager.Create(entry.Config, options, entry.Gate, time, entry.Factory);
                entry.Manager.StatusChanged += OnStatusChanged;
            }

            return entry.Manager;
        }
    }

    private void OnStatusChanged(object? sender, ModuleStatus status)
    {
        if (sender is ModuleManager { } manager && entries.Any(e => e.Config.Mode == ModuleMode.Single && e.Manager == manager))
        {
            EvaluatePrimaries();
        }
    }

    private string DataPlaneOf(ModuleConfig module)
    {
        if (settings.Refused.ContainsKey(module.Name))
        {
            return "refused";
        }

        if (dataPlane is null)
        {
            return "off";
        }

        var status = dataPlane.StatusOf(module.Name);
        return status?.State switch
        {
            ModuleDataPlaneState.Running => "running",
            ModuleDataPlaneState.Failed => "failed: " + status.Reason,
            ModuleDataPlaneState.Stopped => "stopped",
            _ => "pending",
        };
    }

    private ModuleRuntime Runtime(Entry entry)
    {
        string dataPlaneState = DataPlaneOf(entry.Config);
        bool refused = settings.Refused.TryGetValue(entry.Config.Name, out string? refusal);
        bool failed = refused || dataPlaneState.StartsWith("failed", StringComparison.Ordinal);
        var status = entry.Manager?.Status ?? new ModuleStatus(
            entry.Config.Name,
            settings.NodeName,
            ModuleState.Stop,
            failed ? ModuleSubState.NotReady : ModuleSubState.Ready,
            entry.Removed ? "removed: unloaded (farmctl module remove)" : refused ? "refused: " + refusal : failed ? "not started: its data plane " + dataPlaneState : "not started",
            entry.Created,
            null,
            0,
            false,
            [.. entry.Config.Checkers.Select(c => new CheckerStatus(c.Name, null, "", null))]);
        return new ModuleRuntime(entry.Config, status, entry.Gate.IsOpen && (dataPlane is null || dataPlaneState == "running"), dataPlaneState);
    }

    private sealed class Entry(ModuleConfig config, string directory, ModuleLogBuffer buffer, ModuleLoggerFactory factory, ModuleTrafficGate gate, ILogger logger, ModuleLogFile? file, DateTimeOffset created)
    {
        /// <summary>The running farm.yaml; replaced by a live reload (<c>ReloadAsync</c>) while no manager runs.</summary>
        public ModuleConfig Config { get; set; } = config;

        /// <summary>The folder the manager runs scripts from: an installed version's own folder, not the module's link.</summary>
        public string Directory { get; set; } = directory;

        /// <summary>Removed while farmd runs: unloaded, no data plane; status says so until farmd restarts.</summary>
        public bool Removed { get; set; }

        /// <summary>The farm.yaml text <see cref="Config"/> was read from (null when unknown): a folder reload compares it.</summary>
        public string? Definition { get; set; }

        public ModuleLogBuffer Buffer { get; } = buffer;

        public ModuleLoggerFactory Factory { get; } = factory;

        public ModuleTrafficGate Gate { get; } = gate;

        /// <summary>Logs into farmd's log and the module's buffer.</summary>
        public ILogger Logger { get; } = logger;

        public ModuleLogFile? File { get; } = file;

        public DateTimeOffset Created { get; } = created;

        public ModuleManager? Manager { get; set; }

        /// <summary>Cancels the removal of the data plane that an admin stop scheduled (<c>RemoveDataPlaneWhenStoppedAsync</c>).</summary>
        public CancellationTokenSource? DataPlaneStop { get; set; }

        public ViewId? SeenView { get; set; }

        public string? CurrentOwner { get; set; }

        public string? PreviousOwner { get; set; }

        public bool AskedPrimary { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3120, Level = LogLevel.Error, Message = "Module {Module} is not started on this node: its data plane is {DataPlane}")]
        public static partial void NotBooted(ILogger logger, string module, string dataPlane);

        [LoggerMessage(EventId = 3126, Level = LogLevel.Error, Message = "Module {Module} is refused on this node and does not run: {Reason}")]
        public static partial void Refused(ILogger logger, string module, string reason);

        [LoggerMessage(EventId = 3121, Level = LogLevel.Information, Message = "Module {Module}: admin {Action} ({Reason})")]
        public static partial void AdminRequest(ILogger logger, string module, string action, string reason);

        [LoggerMessage(EventId = 3122, Level = LogLevel.Information, Message = "Module {Module}: the view of epoch {Epoch} makes this node the owner; becoming primary (start_prim, then accept)")]
        public static partial void BecomingPrimary(ILogger logger, string module, long epoch);

        [LoggerMessage(EventId = 3123, Level = LogLevel.Information, Message = "Module {Module}: the view of epoch {Epoch} gives the module to {Owner}; not primary here")]
        public static partial void NoLongerOwner(ILogger logger, string module, string owner, long epoch);

        [LoggerMessage(EventId = 3124, Level = LogLevel.Information, Message = "Module {Module} stopped for shutdown: {Status}")]
        public static partial void StoppedForShutdown(ILogger logger, string module, string status);

        [LoggerMessage(EventId = 3125, Level = LogLevel.Warning, Message = "Module {Module} did not stop within the shutdown timeout: {Status}")]
        public static partial void StopTimedOut(ILogger logger, string module, string status);
    }
}
