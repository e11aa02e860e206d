using System.Collections;

namespace Farm.Daemon.Tests.TestSupport;

/// <summary>
/// Several <see cref="InProcessNode"/>s started one after the other and stopped together: disposing stops every node that
/// started, also when a later start failed.
/// </summary>
internal sealed class InProcessNodes : IReadOnlyList<InProcessNode>, IAsyncDisposable
{
    private readonly List<InProcessNode> nodes = [];

    private InProcessNodes()
    {
    }

    /// <summary>The number of nodes started.</summary>
    public int Count => nodes.Count;

    /// <summary>The node of the <paramref name="index"/>-th name.</summary>
    public InProcessNode this[int index] => nodes[index];

    /// <summary>Starts one node per name with <paramref name="start"/>, in order.</summary>
    public static async Task<InProcessNodes> StartAsync(IEnumerable<string> names, Func<string, Task<InProcessNode>> start)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(start);
        var started = new InProcessNodes();
        try
        {
            foreach (string name in names)
            {
                started.nodes.Add(await start(name));
            }
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }

        return started;
    }

    public IEnumerator<InProcessNode> GetEnumerator() => nodes.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }
}
