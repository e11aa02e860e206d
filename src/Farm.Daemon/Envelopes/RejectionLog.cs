namespace Farm.Daemon.Envelopes;

/// <summary>
/// Counts refused messages per source and reason and logs them at most once per source per minute, so a
/// misconfigured or hostile peer cannot flood the log. Thread-safe.
/// </summary>
internal sealed partial class RejectionLog(TimeProvider timeProvider, ILogger logger)
{
    /// <summary>Least time between two log lines about one source.</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private const int MaxSources = 1024;

    private readonly Lock gate = new();
    private readonly Dictionary<(string Source, RejectReason Reason), (long Count, string Sender)> counters = [];
    private readonly Dictionary<string, (long LoggedAt, long Suppressed)> lastLogged = new(StringComparer.Ordinal);

    /// <summary>Counts one refused message and logs it unless this source was logged within the last minute.</summary>
    public void Record(string source, RejectReason reason, string method, string claimedSender)
    {
        bool log;
        long suppressed;
        lock (gate)
        {
            var key = (source, reason);
            if (counters.TryGetValue(key, out var c) || counters.Count < MaxSources * 4)
            {
                counters[key] = (c.Count + 1, claimedSender);
            }

            long now = timeProvider.GetTimestamp();
            bool known = lastLogged.TryGetValue(source, out var last);
            log = !known || timeProvider.GetElapsedTime(last.LoggedAt, now) >= LogInterval;
            if (log)
            {
                if (!known && lastLogged.Count >= MaxSources)
                {
                    lastLogged.Clear(); // worst case: one more line per source
                }

                suppressed = last.Suppressed;
                lastLogged[source] = (now, 0);
            }
            else
            {
                suppressed = 0;
                lastLogged[source] = (last.LoggedAt, last.Suppressed + 1);
            }
        }

        if (log)
        {
            Log.Rejected(logger, method, source, reason.Name(), claimedSender, suppressed);
        }
    }

    /// <summary>Every counter, ordered by source then reason.</summary>
    public IReadOnlyList<RejectionCounter> Snapshot()
    {
        lock (gate)
        {
            return counters
                .Select(kv => new RejectionCounter(kv.Key.Source, kv.Key.Reason, kv.Value.Count, kv.Value.Sender))
                .OrderBy(c => c.Source, StringComparer.Ordinal)
                .ThenBy(c => c.Reason)
                .ToList();
        }
    }

    /// <summary>The count for one source and reason (0 when none).</summary>
    public long Count(string source, RejectReason reason)
    {
        lock (gate)
        {
            return counters.TryGetValue((source, reason), out var c) ? c.Count : 0;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Warning,
            Message = "Refused {Method} from {Source}: {Reason} (claims to be '{ClaimedSender}'); {Suppressed} more from this source since the last line; the next line comes in a minute at the earliest")]
        public static partial void Rejected(ILogger logger, string method, string source, string reason, string claimedSender, long suppressed);
    }
}
