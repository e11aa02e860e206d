using System.Runtime.CompilerServices;

namespace Farm.Testing.Waiting;

/// <summary>
/// The one timeout helper of the tests: waits for a condition by polling a probe, bounds an await, or gives an API
/// under test a token that fires after a limit. Exceptions of a probe or a predicate (a failed assertion included) are
/// never caught: they surface as themselves, never as a misleading timeout. A timeout names the caller's file and line.
/// </summary>
public static class Poll
{
    /// <summary>How often <see cref="UntilAsync"/> probes unless told otherwise.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a test waits unless told otherwise: long enough for a loaded 2-core machine, short enough to fail before a run hangs.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Probes until <paramref name="done"/> holds for the probe's value and returns that value; throws
    /// <see cref="TimeoutException"/> naming <paramref name="what"/>, the caller's line and the last value after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        Func<Task<T>> probe,
        Func<T, bool> done,
        string what,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        TimeSpan? interval = null,
        [CallerFilePath] string file = "",
        [CallerLineNumber] int line = 0)
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
                throw new TimeoutException($"not {what} within {timeout.TotalSeconds:0.###} s at {Where(file, line)}; last: {value}");
            }

            await Task.Delay(interval ?? DefaultInterval, TimeProvider.System, cancellationToken);
        }
    }

    /// <summary>Awaits <paramref name="task"/> for at most <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>); a timeout names the caller's line.</summary>
    public static async Task<T> WithTimeout<T>(
        this Task<T> task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        await ((Task)task).WithTimeout(timeout, file, line);
        return await task;
    }

    /// <summary>Awaits <paramref name="task"/> for at most <paramref name="timeout"/> (default <see cref="DefaultTimeout"/>); a timeout names the caller's line.</summary>
    public static async Task WithTimeout(
        this Task task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        TimeSpan limit = timeout ?? DefaultTimeout;
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new TimeoutException($"timed out after {limit.TotalSeconds:0.###} s at {Where(file, line)}");
        }
    }

    /// <summary>A token that fires after <paramref name="limit"/> (default <see cref="DefaultTimeout"/>): for an API under test that takes one.</summary>
    public static CancellationToken Deadline(TimeSpan? limit = null)
    {
        // Not disposed: its timer ends with it, and a test's token must outlive the call that asked for it.
#pragma warning disable CA2000
        return new CancellationTokenSource(limit ?? DefaultTimeout).Token;
#pragma warning restore CA2000
    }

    private static string Where(string file, int line) => $"{Path.GetFileName(file)}:{line}";
}
