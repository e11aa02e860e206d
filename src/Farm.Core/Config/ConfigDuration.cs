using System.Globalization;
using System.Text.RegularExpressions;

namespace Farm.Core.Config;

/// <summary>Durations as written in configuration files: a whole number and one unit, <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c> (<c>100ms</c>, <c>5s</c>, <c>2m</c>, <c>24h</c>).</summary>
public static partial class ConfigDuration
{
    /// <summary>The hint given with every malformed duration.</summary>
    public const string FormatHint = "write a whole number followed by ms, s, m or h, e.g. 500ms, 5s, 2m or 24h";

    // The most milliseconds a TimeSpan holds.
    private const long MaxMilliseconds = long.MaxValue / TimeSpan.TicksPerMillisecond;

    /// <summary>Parses a duration; on failure <paramref name="error"/> says what is wrong.</summary>
    /// <remarks>Any duration a <see cref="TimeSpan"/> holds parses (callers check their own range); a larger one is "too large", never an overflow.</remarks>
    public static bool TryParse(string text, out TimeSpan value, out string? error) => TryParse(text, out value, out error, out _);

    /// <summary>Like <see cref="TryParse(string, out TimeSpan, out string?)"/>; <paramref name="tooLarge"/> tells a well-formed duration beyond <see cref="TimeSpan"/> from a malformed one.</summary>
    internal static bool TryParse(string text, out TimeSpan value, out string? error, out bool tooLarge)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = default;
        tooLarge = false;
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
        {
            error = text.Trim().Length > 0 && text.Trim().All(char.IsAsciiDigit)
                ? $"duration '{text}' has no unit"
                : $"'{text}' is not a duration";
            return false;
        }

        string unit = match.Groups["u"].Value;
        long unitMs = unit switch
        {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => 0,
        };
        if (unitMs == 0)
        {
            error = $"duration '{text}' has the unknown unit '{unit}'";
            return false;
        }

        // The unit is applied before the limit: 256204779h is as much beyond TimeSpan as 10^20ms.
        if (!long.TryParse(match.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > MaxMilliseconds / unitMs)
        {
            tooLarge = true;
            error = $"duration '{text}' is too large";
            return false;
        }

        value = TimeSpan.FromTicks(n * unitMs * TimeSpan.TicksPerMillisecond);
        error = null;
        return true;
    }

    /// <summary>Formats a duration with the largest unit that divides it exactly (the inverse of <see cref="TryParse"/>).</summary>
    public static string Format(TimeSpan value)
    {
        long ms = (long)value.TotalMilliseconds;
        return ms switch
        {
            0 => "0s",
            _ when ms % 3_600_000 == 0 => (ms / 3_600_000).ToString(CultureInfo.InvariantCulture) + "h",
            _ when ms % 60_000 == 0 => (ms / 60_000).ToString(CultureInfo.InvariantCulture) + "m",
            _ when ms % 1000 == 0 => (ms / 1000).ToString(CultureInfo.InvariantCulture) + "s",
            _ => ms.ToString(CultureInfo.InvariantCulture) + "ms",
        };
    }

    // Any letters are captured as the unit so "5sec" reports a wrong unit rather than a shapeless value.
    [GeneratedRegex(@"^(?<n>[0-9]+)\s*(?<u>[a-zA-Z]+)$")]
    private static partial Regex Pattern();
}
