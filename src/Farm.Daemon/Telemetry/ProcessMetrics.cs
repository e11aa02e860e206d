using Prometheus;

namespace Farm.Daemon.Telemetry;

/// <summary>
/// The process: CPU, memory, threads and GC collections from prometheus-net's own collector (<c>process_*</c>,
/// <c>dotnet_*</c>), and the total time the runtime paused for GC, which it does not export.
/// </summary>
internal sealed class ProcessMetrics
{
    private readonly Counter gcPause;

    public ProcessMetrics(CollectorRegistry registry, IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(factory);
        DotNetStats.Register(registry);
        gcPause = factory.CreateCounter("dotnet_gc_pause_seconds_total", "Total time the runtime paused the process for garbage collection.");
    }

    /// <summary>Reads the runtime's pause total.</summary>
    public void Update() => gcPause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
}
