namespace Farm.Modules.State;

/// <summary>Counts recoveries in a sliding window: more than <c>maxloop</c> within <c>loop_interval</c> escalates to stop.</summary>
internal sealed class RecoveryWindow(int maxLoop, TimeSpan loopInterval)
{
    private readonly Queue<DateTimeOffset> recoveries = new();

    public int MaxLoop => maxLoop;

    public TimeSpan LoopInterval => loopInterval;

    /// <summary>Recoveries within the window ending at <paramref name="now"/>.</summary>
    public int Count(DateTimeOffset now)
    {
        Prune(now);
        return recoveries.Count;
    }

    /// <summary>Records one recovery at <paramref name="now"/> unless <c>maxloop</c> are already in the window; false means escalate.</summary>
    public bool TryRecord(DateTimeOffset now)
    {
        Prune(now);
        if (recoveries.Count >= maxLoop)
        {
            return false;
        }

        recoveries.Enqueue(now);
        return true;
    }

    /// <summary>An admin start forgives earlier failures.</summary>
    public void Reset() => recoveries.Clear();

    private void Prune(DateTimeOffset now)
    {
        while (recoveries.TryPeek(out var oldest) && oldest <= now - loopInterval)
        {
            recoveries.Dequeue();
        }
    }
}
