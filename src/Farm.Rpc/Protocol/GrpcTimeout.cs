using System.Globalization;

namespace Farm.Rpc.Protocol;

/// <summary>The <c>grpc-timeout</c> header: 1 to 8 ASCII digits followed by one unit of H, M, S, m, u or n.</summary>
internal static class GrpcTimeout
{
    public const int MaxDigits = 8;
    private const long MaxValue = 99_999_999;

    /// <summary>Largest delay a timer accepts; longer timeouts are effectively infinite and get no timer.</summary>
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromDays(30);

    /// <summary>
    /// A source that cancels once <paramref name="timeout"/> has passed on <paramref name="timeProvider"/>; null without a
    /// timeout, or for one beyond what a timer accepts (effectively infinite).
    /// </summary>
    public static CancellationTokenSource? StartTimer(TimeSpan? timeout, TimeProvider timeProvider) =>
        timeout is { } t && t <= MaxTimerDelay ? new CancellationTokenSource(t, timeProvider) : null;

    /// <summary>Parses a header value strictly; false for anything the spec does not allow.</summary>
    public static bool TryParse(string? value, out TimeSpan timeout)
    {
        timeout = default;
        if (value is null || value.Length < 2 || value.Length > MaxDigits + 1)
        {
            return false;
        }

        long amount = 0;
        for (int i = 0; i < value.Length - 1; i++)
        {
            char c = value[i];
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        // 99,999,999 hours in ticks is about 3.6e18 and still fits a long, so no unit can overflow.
        long ticks = value[^1] switch
        {
            'H' => amount * TimeSpan.TicksPerHour,
            'M' => amount * TimeSpan.TicksPerMinute,
            'S' => amount * TimeSpan.TicksPerSecond,
            'm' => amount * TimeSpan.TicksPerMillisecond,
            'u' => amount * TimeSpan.TicksPerMicrosecond,
            'n' => (amount + 99) / 100, // a tick is 100 ns; round up so a tiny timeout never becomes zero
            _ => -1,
        };
        if (ticks < 0)
        {
            return false;
        }

        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }

    /// <summary>Formats a positive timeout with the finest unit that fits in 8 digits, rounding up.</summary>
    public static string Format(TimeSpan timeout)
    {
        long ticks = Math.Max(timeout.Ticks, 1);
        if (ticks <= MaxValue / 100)
        {
            return (ticks * 100).ToString(CultureInfo.InvariantCulture) + "n";
        }

        (long TicksPerUnit, char Unit)[] units =
        [
            (TimeSpan.TicksPerMicrosecond, 'u'),
            (TimeSpan.TicksPerMillisecond, 'm'),
            (TimeSpan.TicksPerSecond, 'S'),
            (TimeSpan.TicksPerMinute, 'M'),
            (TimeSpan.TicksPerHour, 'H'),
        ];
        foreach (var (ticksPerUnit, unit) in units)
        {
            long amount = (ticks / ticksPerUnit) + (ticks % ticksPerUnit == 0 ? 0 : 1);
            if (amount <= MaxValue)
            {
                return amount.ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return MaxValue.ToString(CultureInfo.InvariantCulture) + "H";
    }
}
