namespace Farm.Testing.Metrics;

/// <summary>A Prometheus text exposition (what <c>/metrics</c> answers) and its samples by series.</summary>
public sealed class PrometheusText
{
    private readonly Dictionary<string, double> samples = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="text"/>; <paramref name="source"/> names it in failures (e.g. the node).</summary>
    public PrometheusText(string text, string source = "metrics")
    {
        ArgumentNullException.ThrowIfNull(text);
        Text = text;
        Source = source;
        foreach (string line in text.Split('\n'))
        {
            if (line.Length > 0 && line[0] != '#')
            {
                int space = line.LastIndexOf(' ');
                samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>The exposition text.</summary>
    public string Text { get; }

    /// <summary>Where the text came from.</summary>
    public string Source { get; }

    /// <summary>Every series as written (e.g. <c>farm_node_state{node="n1",state="up"}</c>) with its value.</summary>
    public IReadOnlyDictionary<string, double> Samples => samples;

    /// <summary>The value of <paramref name="series"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such series (the message names the source).</exception>
    public double this[string series] =>
        samples.TryGetValue(series, out double value) ? value : throw new KeyNotFoundException($"{Source} has no series {series}");

    /// <summary>The metric families declared by <c># TYPE</c> lines (also those without a series yet).</summary>
    public IEnumerable<string> Families => Text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]);

    /// <summary>True when some series of <paramref name="metric"/> (a name or a name prefix) is there.</summary>
    public bool Has(string metric) => samples.Keys.Any(k => k.StartsWith(metric, StringComparison.Ordinal));

    /// <summary>Whether <paramref name="condition"/> holds; a series it reads that is not there yet counts as not holding.</summary>
    public bool Holds(Func<PrometheusText, bool> condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        try
        {
            return condition(this);
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }

    public override string ToString() => Text.Length > 4000 ? Text[..4000] : Text;
}
