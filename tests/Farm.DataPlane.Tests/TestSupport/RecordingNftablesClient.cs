namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>An in-memory <see cref="INftablesClient"/> that records every batch and answers list commands from a script.</summary>
internal sealed class RecordingNftablesClient : INftablesClient
{
    public List<string> Batches { get; } = [];

    public List<string> Lists { get; } = [];

    /// <summary>Batches checked (dry runs): the kernel never saw them.</summary>
    public List<string> Checks { get; } = [];

    public Func<string, string> ListAnswer { get; set; } = _ => """{"nftables": [{"metainfo": {"version": "1.0.6"}}]}""";

    public bool Disposed { get; private set; }

    public void Run(string batch) => Batches.Add(batch);

    /// <summary>Recorded as its text: the tests read what a batch wrote, not how it travelled.</summary>
    public void Write(INftSetBatch batch) => Batches.Add(batch.Text);

    public void Check(string batch) => Checks.Add(batch);

    public string List(string command, bool json = true)
    {
        Lists.Add(command);
        return ListAnswer(command);
    }

    public void Dispose() => Disposed = true;
}
