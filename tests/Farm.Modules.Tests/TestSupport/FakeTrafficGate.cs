namespace Farm.Modules.Tests.TestSupport;

/// <summary>Records gate calls in a shared journal; with <see cref="NeverConfirmClose"/> a close never completes (a lost confirmation).</summary>
internal sealed class FakeTrafficGate(TestJournal journal) : IModuleTrafficGate
{
    public long Epoch { get; set; } = 42;

    public bool NeverConfirmClose { get; set; }

    public bool Open { get; private set; }

    public bool Primary { get; private set; }

    public Task OpenAsync(string moduleName, string reason, CancellationToken cancellationToken)
    {
        Open = true;
        journal.Add("open");
        return Task.CompletedTask;
    }

    public async Task CloseAsync(string moduleName, string reason, CancellationToken cancellationToken)
    {
        journal.Add("close");
        if (NeverConfirmClose)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        Open = false;
        journal.Add("closed");
    }

    public Task SetPrimaryAsync(string moduleName, bool primary, CancellationToken cancellationToken)
    {
        Primary = primary;
        journal.Add(primary ? "primary" : "secondary");
        return Task.CompletedTask;
    }
}
