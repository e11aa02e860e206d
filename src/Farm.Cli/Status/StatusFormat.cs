using System.Globalization;
using Farm.Protocol.Json;
using Farm.Protocol.V1;

namespace Farm.Cli.Status;

/// <summary>The words and numbers status prints, shared by the table and the JSON so both say the same thing.</summary>
internal static class StatusFormat
{
    /// <summary>"up", "down", "unknown" or "excluded".</summary>
    public static string State(NodeState state) => StatusWords.State(state);

    /// <summary>"none", "draining" or "drained".</summary>
    public static string Drain(DrainState state) => StatusWords.Drain(state);

    /// <summary>"ready", "not_ready" or "unknown".</summary>
    public static string Readiness(ModuleReadiness readiness) => StatusWords.Readiness(readiness);

    /// <summary>The share of a module's buckets, in percent with two decimals; 0 when the count is unknown.</summary>
    public static double SharePercent(ModuleBuckets buckets) => StatusWords.SharePercent(buckets);

    /// <summary>An age for people: 40ms, 3.2s, 4m05s, 2h10m, 3d04h.</summary>
    public static string Age(long milliseconds)
    {
        var c = CultureInfo.InvariantCulture;
        var t = TimeSpan.FromMilliseconds(milliseconds);
        return milliseconds switch
        {
            < 1000 => milliseconds.ToString(c) + "ms",
            < 60_000 => (milliseconds / 1000.0).ToString("0.0", c) + "s",
            < 3_600_000 => $"{t.Minutes.ToString(c)}m{t.Seconds.ToString("00", c)}s",
            < 86_400_000 => $"{t.Hours.ToString(c)}h{t.Minutes.ToString("00", c)}m",
            _ => $"{t.Days.ToString(c)}d{t.Hours.ToString("00", c)}h",
        };
    }

    /// <summary>The first 12 hex digits of a config hash: enough to tell two apart at a glance.</summary>
    public static string ShortHash(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
