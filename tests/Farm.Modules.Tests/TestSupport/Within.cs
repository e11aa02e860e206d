using System.Runtime.CompilerServices;

namespace Farm.Modules.Tests.TestSupport;

/// <summary>Real-time guards for awaits in tests: a stuck test fails naming its file and line instead of hanging the run.</summary>
internal static class Within
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    public static CancellationToken Token(TimeSpan? limit = null) => new CancellationTokenSource(limit ?? Default).Token;

    public static async Task<T> Async<T>(Task<T> task, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        await Async((Task)task, file, line);
        return await task;
    }

    public static async Task Async(Task task, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        try
        {
            await task.WaitAsync(Default);
        }
        catch (TimeoutException)
        {
            throw new AssertFailedException($"timed out after {Default.TotalSeconds:0}s at {Path.GetFileName(file)}:{line}");
        }
    }
}
