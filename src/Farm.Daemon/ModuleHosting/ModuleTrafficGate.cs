namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// farmd's <see cref="IModuleTrafficGate"/> for one module: opening adds the module to this node's ready modules
/// (<c>MemberInfo.ReadyModules</c>, so the coordinator gives the node a share), closing removes it and completes once
/// the installed view gives this node no bucket of the module (the peers took them through the membership protocol,
/// release-before-acquire, no detection timeout). For <c>single</c> modules, <see cref="SetPrimaryAsync"/> lets the
/// kernel accept the owned buckets only after start_prim succeeded.
/// </summary>
internal sealed partial class ModuleTrafficGate : IModuleTrafficGate
{
    /// <summary>How often a close looks at the installed view while it waits for the peers to take the buckets.</summary>
    public static readonly TimeSpan ClosePollInterval = TimeSpan.FromMilliseconds(10);

    private ModuleConfig module;
    private readonly MembershipHost host;
    private readonly DataPlaneHost? dataPlane;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Lock announceGate = new();
    private volatile bool open;
    private volatile bool kernelTakesSets = true;

    public ModuleTrafficGate(ModuleConfig module, MembershipHost host, DataPlaneHost? dataPlane, TimeProvider timeProvider, ILogger<ModuleTrafficGate> logger)
    {
        this.module = module ?? throw new ArgumentNullException(nameof(module));
        this.host = host ?? throw new ArgumentNullException(nameof(host));
        this.dataPlane = dataPlane;
        time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        if (dataPlane is not null)
        {
            dataPlane.HealthChanged += OnDataPlaneHealth;
        }
    }

    /// <summary>The module's definition; a live reload that changes it replaces it while the gate is closed.</summary>
    public ModuleConfig Module
    {
        get => module;
        set => module = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>True between an open and the next close: the node announces the module ready.</summary>
    public bool IsOpen => open;

    /// <summary>
    /// Set by a live reload for its close: the close also waits for this node's drain of the module to end (its
    /// connections closed, or <c>timeouts.drain</c> passed), so the stop scripts and a rebuilt data plane cut none of
    /// them. Other closes (an admin stop, a failure, a shutdown) return once the peers own the buckets.
    /// </summary>
    public bool WaitsForDrain { get; set; }

    /// <summary>
    /// How long a close waits for the peers to own the buckets: the module's <c>timeouts.drain</c>, but at least the
    /// detection timeout (a view change needs a few round trips; with <c>drain: 0s</c> it still gets that long).
    /// </summary>
    public TimeSpan CloseBound => module.Timeouts.Drain > host.Options.DetectionTimeout ? module.Timeouts.Drain : host.Options.DetectionTimeout;

    /// <inheritdoc />
    public long Epoch => host.Read((m, _) => m.Installed?.Id.Epoch ?? 0);

    /// <inheritdoc />
    public Task OpenAsync(string moduleName, string reason, CancellationToken cancellationToken)
    {
        open = true;
        Announce();
        Log.Opened(logger, module.Name, reason);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task CloseAsync(string moduleName, string reason, CancellationToken cancellationToken)
    {
        open = false;
        long started = time.GetTimestamp();
        Announce();
        Log.Closing(logger, module.Name, reason);
        while (HoldsBuckets())
        {
            if (time.GetElapsedTime(started) >= CloseBound)
            {
                Log.CloseTimedOut(logger, module.Name, CloseBound.TotalMilliseconds);
                return;
            }

            await Task.Delay(ClosePollInterval, time, cancellationToken);
        }

        Log.Closed(logger, module.Name, time.GetElapsedTime(started).TotalMilliseconds);
        if (!WaitsForDrain)
        {
            return;
        }

        // The membership ends the drain when the kernel shows no live connection left in the buckets, or at
        // timeouts.drain; the bound only guards against a drain that never ends.
        long draining = time.GetTimestamp();
        var bound = module.Timeouts.Drain + host.Options.DetectionTimeout;
        while (Draining() > 0)
        {
            if (time.GetElapsedTime(draining) >= bound)
            {
                Log.DrainWaitTimedOut(logger, module.Name, bound.TotalMilliseconds);
                return;
            }

            await Task.Delay(ClosePollInterval, time, cancellationToken);
        }

        Log.Drained(logger, module.Name, time.GetElapsedTime(draining).TotalMilliseconds);
    }

    /// <summary>The module's buckets this node still drains (serves its existing connections in, for the peers that own them).</summary>
    private int Draining() => host.Read((m, now) => m.DrainStatuses(now).FirstOrDefault(d => d.Module == module.Name)?.Draining ?? 0);

    /// <inheritdoc />
    public Task SetPrimaryAsync(string moduleName, bool primary, CancellationToken cancellationToken)
    {
        // Synchronous: the kernel holds the new sets when this returns (about a millisecond).
        dataPlane?.SetAccepting(module.Name, primary);
        if (primary)
        {
            Log.Accepting(logger, module.Name);
        }
        else
        {
            Log.NotAccepting(logger, module.Name);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Announces the module ready exactly while the gate is open and the kernel takes its bucket sets: a module whose
    /// kernel refuses them (its lease is withheld, it serves nothing) gives its buckets to the others until it recovers.
    /// </summary>
    private void Announce()
    {
        lock (announceGate)
        {
            bool ready = open && kernelTakesSets;
            host.UpdateSelf(self => self.ReadyModules.Contains(module.Name, StringComparer.Ordinal) == ready
                ? self
                : self with
                {
                    ReadyModules = ready
                        ? [.. self.ReadyModules.Append(module.Name).Order(StringComparer.Ordinal)]
                        : [.. self.ReadyModules.Where(m => m != module.Name)],
                });
        }
    }

    private void OnDataPlaneHealth(string name, bool healthy)
    {
        if (name != module.Name || kernelTakesSets == healthy)
        {
            return;
        }

        kernelTakesSets = healthy;
        if (healthy)
        {
            Log.KernelRecovered(logger, module.Name);
        }
        else
        {
            Log.KernelRefuses(logger, module.Name);
        }

        Announce();
    }

    /// <summary>True while the installed view gives this node buckets of the module.</summary>
    public bool HoldsBuckets() => host.Read((m, _) =>
        m.Installed is { } view && view.Tables.TryGetValue(module.Name, out var table) && table.CountOf(m.Self.Name) > 0);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Module {Module}: traffic open, this node announces it ready ({Reason})")]
        public static partial void Opened(ILogger logger, string module, string reason);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Module {Module}: closing traffic, waiting for the peers to own this node's buckets ({Reason})")]
        public static partial void Closing(ILogger logger, string module, string reason);

        [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Module {Module}: traffic closed, the peers own this node's buckets after {ElapsedMs:F0} ms")]
        public static partial void Closed(ILogger logger, string module, double elapsedMs);

        [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Module {Module}: the view still gives this node buckets {BoundMs:F0} ms after the close; stopping anyway")]
        public static partial void CloseTimedOut(ILogger logger, string module, double boundMs);

        [LoggerMessage(EventId = 3109, Level = LogLevel.Information, Message = "Module {Module}: this node's drain ended after {ElapsedMs:F0} ms (its connections closed, or timeouts.drain passed)")]
        public static partial void Drained(ILogger logger, string module, double elapsedMs);

        [LoggerMessage(EventId = 3110, Level = LogLevel.Warning, Message = "Module {Module}: this node still drains {BoundMs:F0} ms after the close; stopping anyway")]
        public static partial void DrainWaitTimedOut(ILogger logger, string module, double boundMs);

        [LoggerMessage(EventId = 3105, Level = LogLevel.Information, Message = "Module {Module}: primary, the kernel accepts the traffic of this node's buckets")]
        public static partial void Accepting(ILogger logger, string module);

        [LoggerMessage(EventId = 3106, Level = LogLevel.Information, Message = "Module {Module}: no longer primary, the kernel drops the module's traffic on this node")]
        public static partial void NotAccepting(ILogger logger, string module);

        [LoggerMessage(EventId = 3107, Level = LogLevel.Warning, Message = "Module {Module}: the kernel refuses its bucket sets: this node announces it not ready, the peers take its buckets until an apply succeeds")]
        public static partial void KernelRefuses(ILogger logger, string module);

        [LoggerMessage(EventId = 3108, Level = LogLevel.Information, Message = "Module {Module}: the kernel takes its bucket sets again: ready again while its traffic is open")]
        public static partial void KernelRecovered(ILogger logger, string module);
    }
}
