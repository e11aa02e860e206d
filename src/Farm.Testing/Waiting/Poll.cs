namespace Farm.Testing.Waiting;

/// <summary>
/// Waits for a condition by polling a probe. Exceptions of the probe (a failed assertion included) are not caught:
/// they surface as themselves, never as a misleading timeout.
/// </summary>
public static class Poll
{
    /// <summary>How often <see cref="UntilAsync"/> probes unless told otherwise.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Probes until <paramref name="done"/> holds for the probe's value and returns that value; throws
    /// <see cref="TimeoutException"/> naming <paramref name="what"/> and the last value after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(done);
        long start = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (TimeProvider.System.GetElapsedTime(start) >= timeout)
            {
                throw new TimeoutException($"not {what} within {timeout.TotalSeconds:0.###} s; last: {value}");
            }

            await Task.Delay(interval ?? DefaultInterval, TimeProvider.System, cancellationToken);
        }
    }
}
