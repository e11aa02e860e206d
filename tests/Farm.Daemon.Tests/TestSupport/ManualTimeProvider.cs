namespace Farm.Daemon.Tests.TestSupport;

/// <summary>A clock that moves only when the test says so (wall clock and timestamps together).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private DateTimeOffset now = start;
    private long ticks;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public override long GetTimestamp()
    {
        lock (gate)
        {
            return ticks;
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        lock (gate)
        {
            now += by;
            ticks += by.Ticks;
        }
    }
}
