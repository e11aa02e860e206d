using Prometheus;

namespace Farm.Daemon.Telemetry;

/// <summary>
/// What the module managers do, as counts and durations: checks and their verdicts, script runs and failures,
/// recoveries. Owns these instruments; the managers call it after each check, script and recovery (seconds apart).
/// </summary>
internal sealed class ModuleMetrics : IModuleObserver
{
    /// <summary>Buckets of the check and script durations: from a quick TCP connect to a slow start script.</summary>
    internal static readonly double[] DurationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private readonly Counter checks;
    private readonly Histogram checkDuration;
    private readonly Histogram scriptDuration;
    private readonly Counter scriptFailures;
    private readonly Counter recoveries;

    public ModuleMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        checks = factory.CreateCounter("farm_checker_checks_total", "Checks run, by verdict (up, down).", ["module", "checker", "verdict"]);
        checkDuration = factory.CreateHistogram(
            "farm_checker_duration_seconds", "Duration of each check (bounded by the checker's timeout).", ["module", "checker"], new HistogramConfiguration { Buckets = DurationBuckets });
        scriptDuration = factory.CreateHistogram(
            "farm_script_duration_seconds", "Duration of each module script run (skipped scripts count with 0).", ["module", "script"], new HistogramConfiguration { Buckets = DurationBuckets });
        scriptFailures = factory.CreateCounter("farm_script_failures_total", "Script runs that failed (non-zero exit, could not start) or timed out.", ["module", "script", "outcome"]);
        recoveries = factory.CreateCounter(
            "farm_module_recoveries_total", "Recoveries started by a failed checker (restart, stopstart), and maxloop stops.", ["module", "action"]);
    }

    /// <inheritdoc />
    public void Checked(string moduleName, string checker, bool up, TimeSpan duration)
    {
        checks.WithLabels(moduleName, checker, up ? "up" : "down").Inc();
        checkDuration.WithLabels(moduleName, checker).Observe(duration.TotalSeconds);
    }

    /// <inheritdoc />
    public void ScriptRan(string moduleName, string script, string outcome, TimeSpan duration)
    {
        scriptDuration.WithLabels(moduleName, script).Observe(duration.TotalSeconds);
        if (outcome is "failed" or "timed_out")
        {
            scriptFailures.WithLabels(moduleName, script, outcome).Inc();
        }
    }

    /// <inheritdoc />
    public void Recovered(string moduleName, string action) => recoveries.WithLabels(moduleName, action).Inc();
}
