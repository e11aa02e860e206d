namespace Farm.Modules.Tests.TestSupport;

/// <summary>Records script runs in a shared journal and answers with configured results, at once or when the test releases them.</summary>
internal sealed class FakeScriptRunner(TestJournal journal) : IScriptRunner
{
    private readonly ConcurrentDictionary<string, ScriptResult> results = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> holds = new();

    public ConcurrentQueue<ScriptRequest> Requests { get; } = new();

    public void SetResult(string script, ScriptResult result) => results[script] = result;

    /// <summary>Runs of <paramref name="script"/> block until <see cref="Release"/>.</summary>
    public void Hold(string script) => holds[script] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release(string script)
    {
        if (holds.TryRemove(script, out var hold))
        {
            hold.TrySetResult();
        }
    }

    public async Task<ScriptResult> RunAsync(ScriptRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        journal.Add(request.Name);
        if (holds.TryGetValue(request.Name, out var hold))
        {
            await hold.Task.WaitAsync(cancellationToken);
        }

        return results.TryGetValue(request.Name, out var result) ? result : ScriptResult.Ok();
    }
}
