using Farm.Testing.Metrics;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>A registry written out in the Prometheus text format.</summary>
internal static class MetricsText
{
    /// <summary>A registry of a test's own and the factory that registers into it.</summary>
    public static (CollectorRegistry Registry, IMetricFactory Factory) NewRegistry()
    {
        var registry = Metrics.NewCustomRegistry();
        return (registry, Metrics.WithCustomRegistry(registry));
    }

    public static async Task<PrometheusText> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return new PrometheusText(System.Text.Encoding.UTF8.GetString(stream.ToArray()), "the registry");
    }
}
