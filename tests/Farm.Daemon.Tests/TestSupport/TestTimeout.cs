using System.Runtime.CompilerServices;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>Bounds every await of a test, failing with the file and line instead of hanging.</summary>
internal static class TestTimeout
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    public static async Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            return await task.WaitAsync(timeout ?? Default);
        }
        catch (TimeoutException)
        {
            throw new AssertFailedException($"Timed out after {timeout ?? Default} at {Path.GetFileName(file)}:{line}.");
        }
    }

    public static async Task WithTimeout(this Task task, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            await task.WaitAsync(timeout ?? Default);
        }
        catch (TimeoutException)
        {
            throw new AssertFailedException($"Timed out after {timeout ?? Default} at {Path.GetFileName(file)}:{line}.");
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        TimeSpan limit = timeout ?? Default;
        long start = TimeProvider.System.GetTimestamp();
        T last = default!;
        Exception? lastError = null;
        while (TimeProvider.System.GetElapsedTime(start) < limit)
        {
            try
            {
                last = await probe();
                lastError = null;
                if (condition(last))
                {
                    return last;
                }
            }
            catch (Exception ex)
            {
                lastError = ex;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }

        throw new AssertFailedException($"Not reached within {limit} at {Path.GetFileName(file)}:{line}: {what}. Last: {last}{(lastError is null ? "" : " / error: " + lastError.Message)}");
    }
}
