using Farm.Protocol.V1;

namespace Farm.Cli.Status;

/// <summary>The ages and hashes status prints for people; its words are <see cref="StatusWords"/>, shared with the JSON.</summary>
internal static class StatusFormat
{
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
