namespace Farm.EndToEnd.Tests;

/// <summary>
/// The one farm a test class shares: built by the first test that needs it, under a lock, and tried only once (a
/// broken setup fails every later test at once instead of being retried for each). Prints the daemons' output after a
/// failed test and disposes the farm at class cleanup.
/// </summary>
internal sealed class ClassFarm<T>(string description, Func<T, string> outputs) : IClassFarm
    where T : class, IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private T? farm;
    private string? setupFailure;

    /// <summary>The farm; only valid after <see cref="InitializeAsync"/>.</summary>
    public T Value => farm!;

    /// <summary>
    /// Builds the farm with <paramref name="build"/> unless it exists; otherwise runs <paramref name="reuse"/> on it (when
    /// given). Either way reports the time taken as "<paramref name="builtMessage"/> (or <paramref name="reusedMessage"/>) in N ms".
    /// </summary>
    public async Task InitializeAsync(
        TestContext context,
        Func<CancellationToken, Task<T>> build,
        string builtMessage,
        Func<T, CancellationToken, Task>? reuse = null,
        string? reusedMessage = null)
    {
        var ct = context.CancellationToken;
        await gate.WaitAsync(ct);
        try
        {
            if (setupFailure is not null)
            {
                Assert.Fail($"The {description} could not be set up (see the first test): " + setupFailure);
            }

            var watch = Stopwatch.StartNew();
            if (farm is null)
            {
                try
                {
                    farm = await build(ct);
                }
                catch (Exception e) when (e is TimeoutException or InvalidOperationException)
                {
                    setupFailure = e.Message.Split('\n')[0];
                    throw;
                }

                context.WriteLine($"{builtMessage} in {watch.ElapsedMilliseconds} ms");
            }
            else if (reuse is not null)
            {
                await reuse(farm, ct);
                context.WriteLine($"{reusedMessage} in {watch.ElapsedMilliseconds} ms");
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc/>
    public void ReportOnFailure(TestContext context)
    {
        if (context.CurrentTestOutcome != UnitTestOutcome.Passed && farm is not null)
        {
            context.WriteLine(outputs(farm));
        }
    }

    /// <summary>Disposes the farm, if one was built (class cleanup; the lock stays usable).</summary>
    public async ValueTask DisposeAsync()
    {
        if (farm is not null)
        {
            await farm.DisposeAsync();
            farm = null;
        }
    }
}
