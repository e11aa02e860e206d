namespace Farm.Modules.Tests.TestSupport;

/// <summary>An ordered record of what fakes were asked to do, shared by the script runner and the gate so tests can assert ordering.</summary>
internal sealed class TestJournal
{
    private readonly Lock gate = new();
    private readonly List<string> entries = [];
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(string entry)
    {
        TaskCompletionSource old;
        lock (gate)
        {
            entries.Add(entry);
            old = changed;
            changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        old.TrySetResult();
    }

    public string[] ToArray()
    {
        lock (gate)
        {
            return [.. entries];
        }
    }

    public void Clear()
    {
        lock (gate)
        {
            entries.Clear();
        }
    }

    /// <summary>Completes once the journal ends with <paramref name="last"/>.</summary>
    public async Task WaitForLastAsync(string last)
    {
        while (true)
        {
            Task signal;
            lock (gate)
            {
                if (entries.Count > 0 && entries[^1] == last)
                {
                    return;
                }

                signal = changed.Task;
            }

            await signal.WithTimeout();
        }
    }
}
