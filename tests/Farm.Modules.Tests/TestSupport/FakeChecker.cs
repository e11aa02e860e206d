namespace Farm.Modules.Tests.TestSupport;

/// <summary>A checker whose verdict the test sets; with <see cref="Hang"/> it never answers (until cancelled).</summary>
internal sealed class FakeChecker : IChecker
{
    private volatile bool up = true;

    public bool Up
    {
        get => up;
        set => up = value;
    }

    public string Detail { get; set; } = "connection refused";

    public bool Hang { get; set; }

    public int Calls;

    public async Task<CheckResult> CheckAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Calls);
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return new CheckResult(up, up ? "ok" : Detail);
    }
}
