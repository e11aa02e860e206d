using System.Runtime.CompilerServices;

namespace Farm.Cli.Tests.TestSupport;

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

    /// <summary>Polls <paramref name="probe"/> every 50 ms until <paramref name="condition"/> holds; fails naming <paramref name="what"/>.</summary>
    public static async Task<T> UntilAsync<T>(
        Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
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
            catch (Exception ex) when (ex is not AssertFailedException)
            {
                lastError = ex;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }

        throw new AssertFailedException($"Timed out after {limit} waiting until {what} at {Path.GetFileName(file)}:{line}; last: {lastError?.Message ?? last?.ToString()}");
    }
}
