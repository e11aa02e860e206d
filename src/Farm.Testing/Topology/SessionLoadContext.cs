namespace Farm.Testing.Topology;

/// <summary>What every session of one <see cref="SessionLoad"/> shares: the clock, its limits in clock ticks and the latency histogram.</summary>
internal sealed class SessionLoadContext
{
    public SessionLoadContext(SessionLoadOptions options, TimeProvider time)
    {
        Options = options;
        Time = time;
        Origin = time.GetTimestamp();
        IntervalTicks = ToTicks(options.Interval);
        AnswerTimeoutTicks = ToTicks(options.AnswerTimeout);
        ConnectTimeoutTicks = ToTicks(options.ConnectTimeout);
        StallThresholdTicks = ToTicks(options.StallThreshold);
        CloseTimeoutTicks = ToTicks(options.CloseTimeout);
        Latency = new LatencyHistogram(options.LatencySlice);
    }

    public SessionLoadOptions Options { get; }

    public TimeProvider Time { get; }

    /// <summary>The clock's timestamp when the load started: time zero of every report.</summary>
    public long Origin { get; }

    public long IntervalTicks { get; }

    public long AnswerTimeoutTicks { get; }

    public long ConnectTimeoutTicks { get; }

    public long StallThresholdTicks { get; }

    public long CloseTimeoutTicks { get; }

    public LatencyHistogram Latency { get; }

    public long Now() => Time.GetTimestamp();

    public long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Time.TimestampFrequency);

    public TimeSpan ToSpan(long ticks) => TimeSpan.FromTicks((long)(ticks * ((double)TimeSpan.TicksPerSecond / Time.TimestampFrequency)));

    /// <summary>A timestamp as time since the load started.</summary>
    public TimeSpan Since(long timestamp) => ToSpan(timestamp - Origin);
}
