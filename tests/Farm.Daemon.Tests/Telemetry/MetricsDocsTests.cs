using System.Text.RegularExpressions;
using Farm.Cluster.Membership;

namespace Farm.Daemon.Tests.Telemetry;

/// <summary>docs/metrics.md and the Grafana dashboard against the metric families a node really registers.</summary>
[TestClass]
public sealed partial class MetricsDocsTests
{
    [TestMethod]
    public async Task MetricsDoc_EveryRegisteredFamily_DocumentedAndNothingElse()
    {
        var registered = await RegisteredFamiliesAsync();
        var documented = DocumentedMetrics();

        CollectionAssert.AreEquivalent(registered.Order().ToList(), documented.Order().ToList(),
            $"registered only: {string.Join(", ", registered.Except(documented))}; documented only: {string.Join(", ", documented.Except(registered))}");
    }

    [TestMethod]
    public async Task Dashboard_EveryQuery_UsesOnlyRegisteredMetrics()
    {
        var registered = await RegisteredFamiliesAsync();
        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Path("docs", "grafana-dashboard.json")));
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (!panel.TryGetProperty("targets", out var targets))
            {
                continue;
            }

            foreach (var target in targets.EnumerateArray())
            {
                foreach (Match m in MetricName().Matches(target.GetProperty("expr").GetString()!))
                {
                    used.Add(Regex.Replace(m.Value, "_(bucket|sum|count)$", ""));
                }
            }
        }

        Assert.IsGreaterThan(20, used.Count, "the dashboard queries the metrics");
        CollectionAssert.IsSubsetOf(used.ToList(), registered.ToList(), $"not registered: {string.Join(", ", used.Except(registered))}");
    }

    /// <summary>The families of a node's registry before any event: prometheus-net writes HELP and TYPE even without series.</summary>
    private static async Task<HashSet<string>> RegisteredFamiliesAsync()
    {
        using var host = new MembershipHost(new MembershipOptions { ConfiguredNodes = ["n1"] }, new MemberInfo("n1", 1, 100, 0, false, []), "hash", [], TimeProvider.System, NullLoggerFactory.Instance);
        var telemetry = new NodeTelemetry(host, ["default"], TimeProvider.System, NullLogger<NodeTelemetry>.Instance);
        var text = await MetricsText.ScrapeAsync(telemetry.Registry);
        return [.. text.Families];
    }

    /// <summary>The metric names in the first column of docs/metrics.md's tables (a cell may name several).</summary>
    private static HashSet<string> DocumentedMetrics()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(RepositoryFiles.Path("docs", "metrics.md")))
        {
            var cells = line.Split('|');
            if (cells.Length > 3 && cells[2].Trim() is "gauge" or "counter" or "histogram")
            {
                foreach (Match m in MetricName().Matches(cells[1]))
                {
                    names.Add(m.Value);
                }
            }
        }

        return names;
    }

    [GeneratedRegex(@"\b(farm|process|dotnet)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
