using System.Runtime.CompilerServices;

namespace Farm.Rpc.Tests.TestSupport;

/// <summary>Bounds every await of a test, failing with the file and line instead of hanging.</summary>
internal static class TestTimeout
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    public static async Task<T> WithTimeout<T>(this Task<T> task, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            return await task.WaitAsync(Default);
        }
        catch (TimeoutException)
        {
            throw new AssertFailedException($"Timed out after {Default} at {Path.GetFileName(file)}:{line}.");
        }
    }

    public static async Task WithTimeout(this Task task, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            await task.WaitAsync(Default);
        }
        catch (TimeoutException)
        {
            throw new AssertFailedException($"Timed out after {Default} at {Path.GetFileName(file)}:{line}.");
        }
    }

    public static async Task<List<T>> ToListAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (T item in source)
        {
            list.Add(item);
        }

        return list;
    }
}
