using Prometheus;

namespace Farm.Daemon.Telemetry;

/// <summary>
/// This node's metrics: one registry of its own (several nodes may share a process in tests) and one owner per
/// concern: <see cref="StatusMetrics"/> (what status reports), <see cref="ViewMetrics"/> (membership events),
/// <see cref="ModuleMetrics"/> (checks, scripts, recoveries), <see cref="FilterMetrics"/> (kernel counters) and
/// <see cref="ProcessMetrics"/>. State is read once per scrape, before the registry is written out.
/// </summary>
internal sealed partial class NodeTelemetry
{
    private readonly Lock gate = new();
    private readonly StatusMetrics status;
    private readonly FilterMetrics filters;
    private readonly ProcessMetrics process;
    private readonly ILogger logger;
    private StatusBuilder? statusBuilder;
    private DataPlaneHost? dataPlane;

    public NodeTelemetry(MembershipHost host, IReadOnlyList<string> lans, TimeProvider timeProvider, ILogger<NodeTelemetry> logger)
    {
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        status = new StatusMetrics(factory);
        filters = new FilterMetrics(factory);
        process = new ProcessMetrics(Registry, factory);
        Modules = new ModuleMetrics(factory);
        View = new ViewMetrics(host, timeProvider, factory);
        RoundTrips = new RoundTripMetrics(factory, lans);
        Registry.AddBeforeCollectCallback(Update);
    }

    /// <summary>Every metric of this node.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The module managers' observer.</summary>
    public ModuleMetrics Modules { get; }

    /// <summary>The ownership sink counting views and lease lapses (attach it to the membership host).</summary>
    public ViewMetrics View { get; }

    /// <summary>The heartbeat transport's observer of round trips.</summary>
    public RoundTripMetrics RoundTrips { get; }

    /// <summary>Where scrapes read the node's state: its status and, with the data plane on, its kernel counters.</summary>
    public void Observe(StatusBuilder statusBuilder, DataPlaneHost? dataPlane)
    {
        this.statusBuilder = statusBuilder ?? throw new ArgumentNullException(nameof(statusBuilder));
        this.dataPlane = dataPlane;
    }

    private void Update()
    {
        lock (gate)
        {
            process.Update();
            if (statusBuilder is not { } builder)
            {
                return;
            }

            status.Update(builder.Build());
            if (dataPlane is not { } plane)
            {
                return;
            }

            foreach (var module in builder.Modules)
            {
                try
                {
                    if (plane.CountersOf(module.Name) is { } counters)
                    {
                        filters.Update(module.Name, counters);
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The module's filter went away meanwhile, or nft failed: its counters wait for the next scrape.
                    Log.CountersUnreadable(logger, module.Name, e.Message);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7000, Level = LogLevel.Debug, Message = "Metrics: the filter counters of module {Module} could not be read: {Reason}")]
        public static partial void CountersUnreadable(ILogger logger, string module, string reason);
    }
}
