using Farm.Testing.Metrics;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>A registry written out in the Prometheus text format.</summary>
internal static class MetricsText
{
    public static async Task<PrometheusText> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return new PrometheusText(System.Text.Encoding.UTF8.GetString(stream.ToArray()), "the registry");
    }
}
