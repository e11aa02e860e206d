namespace Farm.Daemon.Tests.Telemetry;

[TestClass]
public sealed class ModuleMetricsTests
{
    [TestMethod]
    public async Task Observer_ChecksScriptsRecoveries_CountedWithTheirLabels()
    {
        var (registry, factory) = MetricsText.NewRegistry();
        var metrics = new ModuleMetrics(factory);

        metrics.Checked("web", "tcp", up: true, TimeSpan.FromMilliseconds(3));
        metrics.Checked("web", "tcp", up: false, TimeSpan.FromSeconds(2));
        metrics.ScriptRan("web", "start_both", "succeeded", TimeSpan.FromSeconds(1));
        metrics.ScriptRan("web", "start_both", "failed", TimeSpan.FromSeconds(4));
        metrics.ScriptRan("web", "stop_both", "timed_out", TimeSpan.FromSeconds(60));
        metrics.ScriptRan("web", "poststop", "forced", TimeSpan.FromSeconds(1));
        metrics.Recovered("web", "restart");
        var text = await MetricsText.ScrapeAsync(registry);

        Assert.AreEqual(1, text["farm_checker_checks_total{module=\"web\",checker=\"tcp\",verdict=\"up\"}"]);
        Assert.AreEqual(1, text["farm_checker_checks_total{module=\"web\",checker=\"tcp\",verdict=\"down\"}"]);
        Assert.AreEqual(2, text["farm_checker_duration_seconds_count{module=\"web\",checker=\"tcp\"}"]);
        Assert.AreEqual(2.003, text["farm_checker_duration_seconds_sum{module=\"web\",checker=\"tcp\"}"], 1e-9);
        Assert.AreEqual(1, text["farm_checker_duration_seconds_bucket{module=\"web\",checker=\"tcp\",le=\"0.005\"}"]);
        Assert.AreEqual(2, text["farm_script_duration_seconds_count{module=\"web\",script=\"start_both\"}"]);
        Assert.AreEqual(1, text["farm_script_failures_total{module=\"web\",script=\"start_both\",outcome=\"failed\"}"]);
        Assert.AreEqual(1, text["farm_script_failures_total{module=\"web\",script=\"stop_both\",outcome=\"timed_out\"}"]);
        Assert.IsFalse(text.Samples.Keys.Any(k => k.StartsWith("farm_script_failures_total{module=\"web\",script=\"poststop\"", StringComparison.Ordinal)), "a forced stop is no failure");
        Assert.AreEqual(1, text["farm_module_recoveries_total{module=\"web\",action=\"restart\"}"]);
    }
}
