namespace Farm.Testing.Time;

/// <summary>
/// A clock for tests that moves only when the test calls <see cref="Advance"/>; timers that fall due fire then, in due
/// order, on the caller's thread. Timestamps are UTC ticks (frequency 10 MHz).
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock gate = new();
    private readonly List<ManualTimer> timers = [];
    private DateTimeOffset now;
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A clock at <paramref name="start"/> (default 2026-01-01 00:00 UTC).</summary>
    public ManualTimeProvider(DateTimeOffset? start = null) => now = start ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock, firing every timer that falls due on the way, in due order.</summary>
    public void Advance(TimeSpan by)
    {
        DateTimeOffset end;
        lock (gate)
        {
            end = now + by;
        }

        while (true)
        {
            ManualTimer? next;
            lock (gate)
            {
                next = timers.Where(t => t.DueAt <= end).OrderBy(t => t.DueAt).FirstOrDefault();
                if (next is null)
                {
                    now = end;
                    Pulse();
                    return;
                }

                now = next.DueAt > now ? next.DueAt : now;
                next.DueAt = next.Period > TimeSpan.Zero ? now + next.Period : DateTimeOffset.MaxValue;
                Pulse();
            }

            next.Fire();
        }
    }

    /// <summary>Completes once a timer is pending that falls due exactly <paramref name="dueIn"/> from now (e.g. a script timeout).</summary>
    public async Task WaitForTimerAsync(TimeSpan dueIn, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task signal;
            lock (gate)
            {
                if (timers.Any(t => t.DueAt != DateTimeOffset.MaxValue && t.DueAt - now == dueIn))
                {
                    return;
                }

                signal = changed.Task;
            }

            await signal.WaitAsync(cancellationToken);
        }
    }

    private void Pulse()
    {
        var old = changed;
        changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset DueAt { get; set; } = DateTimeOffset.MaxValue;

        public TimeSpan Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner.gate)
            {
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? DateTimeOffset.MaxValue : owner.now + dueTime;
                if (!owner.timers.Contains(this))
                {
                    owner.timers.Add(this);
                }

                owner.Pulse();
            }

            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner.gate)
            {
                owner.timers.Remove(this);
                owner.Pulse();
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
