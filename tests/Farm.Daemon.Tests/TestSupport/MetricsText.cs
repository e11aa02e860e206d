using System.Globalization;
using Prometheus;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>A registry written out in the Prometheus text format, and its samples by series.</summary>
internal sealed class MetricsText
{
    private MetricsText(string text)
    {
        Text = text;
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int space = line.LastIndexOf(' ');
            Samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The exposition text.</summary>
    public string Text { get; }

    /// <summary>Value by series as written, e.g. <c>farm_node_state{node="n1",state="up"}</c>.</summary>
    public Dictionary<string, double> Samples { get; } = new(StringComparer.Ordinal);

    public static async Task<MetricsText> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return new MetricsText(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>The value of <paramref name="series"/>; fails the test naming what the text holds when absent.</summary>
    public double this[string series] =>
        Samples.TryGetValue(series, out double value) ? value : throw new AssertFailedException($"no series {series} in:\n{Text}");
}
