using Farm.Protocol.V1;

namespace Farm.Testing.Farmd;

/// <summary>
/// The farmd of each node of a test farm, by node index (node <c>i</c> is named <c>node</c>i): the running daemons,
/// the output of the ones that are gone (for failure reports), their status, and the kernel tables they programmed.
/// Disposing kills every daemon still running.
/// </summary>
public sealed class FarmdGroup : IAsyncDisposable
{
    private readonly FarmdProcess?[] daemons;
    private readonly List<string> pastOutputs = [];

    /// <summary>A group of <paramref name="count"/> nodes, none running.</summary>
    public FarmdGroup(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        daemons = new FarmdProcess?[count];
    }

    /// <summary>The name of node <paramref name="index"/>: <c>node</c> and the index.</summary>
    public static string NodeName(int index) => string.Create(CultureInfo.InvariantCulture, $"node{index}");

    /// <summary>The daemon of node <paramref name="index"/>.</summary>
    /// <exception cref="InvalidOperationException">The node has none.</exception>
    public FarmdProcess this[int index] => daemons[index] ?? throw new InvalidOperationException($"{NodeName(index)} has no daemon.");

    /// <summary>True when node <paramref name="index"/> has a daemon that has not exited.</summary>
    public bool IsRunning(int index) => daemons[index] is { HasExited: false };

    /// <summary>Starts farmd for node <paramref name="index"/> (see <see cref="FarmdProcess.Start"/>).</summary>
    public FarmdProcess Start(int index, FarmdOptions options) => daemons[index] = FarmdProcess.Start(options);

    /// <summary>Keeps the output of node <paramref name="index"/>'s daemon, which is gone (<paramref name="how"/>), and forgets it.</summary>
    public async Task ForgetAsync(int index, string how = "ended")
    {
        if (daemons[index] is { } old)
        {
            pastOutputs.Add($"--- {old} ({how}) ---\n{old.Output}");
            await old.DisposeAsync();
            daemons[index] = null;
        }
    }

    /// <summary>The status of each node of <paramref name="indexes"/>, in order; null and the reason when one has no running daemon or does not answer.</summary>
    public async Task<(IReadOnlyList<NodeStatusReport>? Reports, string Problem)> TryGetStatusesAsync(IEnumerable<int> indexes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        var reports = new List<NodeStatusReport>();
        foreach (int i in indexes)
        {
            if (daemons[i] is not { HasExited: false } d)
            {
                return (null, $"{NodeName(i)} has no running daemon");
            }

            try
            {
                using var admin = d.CreateAdminClient();
                reports.Add(await admin.GetStatusAsync(cancellationToken));
            }
            catch (Grpc.Core.RpcException e)
            {
                return (null, $"{NodeName(i)}: GetStatus failed: {e.Message}");
            }
        }

        return (reports, "read");
    }

    /// <summary>
    /// Reads <paramref name="module"/>'s kernel table on each of <paramref name="nodes"/> and returns the owner (node
    /// index) of each of the <paramref name="buckets"/> when every table holds a lease and settled sets that split all
    /// buckets without overlap or gap; otherwise null and what is wrong. <paramref name="check"/> may reject a node's
    /// table (returning why) before its buckets are counted.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static async Task<(int[]? Owners, string Problem)> TrySplitBucketsAsync(
        IEnumerable<(int Index, NetworkNamespace Namespace)> nodes,
        string module,
        int buckets,
        CancellationToken cancellationToken,
        Func<int, FilterTableState, string?>? check = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        int[] owners = [.. Enumerable.Repeat(-1, buckets)];
        foreach (var (i, ns) in nodes)
        {
            var table = await FilterTableState.ReadAsync(ns, module, cancellationToken);
            if (table is null || !table.IsSettled || !table.HasLease)
            {
                return (null, $"{NodeName(i)} kernel: {table?.ToString() ?? "no table"}");
            }

            if (check?.Invoke(i, table) is { } problem)
            {
                return (null, problem);
            }

            foreach (int bucket in table.Owned)
            {
                if (owners[bucket] >= 0)
                {
                    return (null, $"bucket {bucket} is owned by both {NodeName(owners[bucket])} and {NodeName(i)}");
                }

                owners[bucket] = i;
            }
        }

        int gaps = owners.Count(o => o < 0);
        return gaps > 0 ? (null, $"{gaps} {module} buckets have no owner") : (owners, "settled");
    }

    /// <summary>
    /// What every daemon printed, the ones gone first (for failure messages): all of it, or the last
    /// <paramref name="tailChars"/> characters of each daemon's output (a soak's daemons print hundreds of megabytes).
    /// </summary>
    public string Outputs(int? tailChars = null)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteOutputs(writer, tailChars);
        return writer.ToString();
    }

    /// <summary>
    /// Writes what every daemon printed, the ones gone first, to <paramref name="writer"/> (no copy into one string): all
    /// of it, or the last <paramref name="tailChars"/> characters of each daemon's output.
    /// </summary>
    public void WriteOutputs(TextWriter writer, int? tailChars = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (string past in pastOutputs)
        {
            writer.WriteLine(tailChars is { } t && past.Length > t ? string.Concat(Header(past), "[...]\n", past.AsSpan(past.Length - t)) : past);
        }

        foreach (var d in daemons)
        {
            if (d is not null)
            {
                writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--- {d} ---"));
                if (tailChars is { } t)
                {
                    writer.WriteLine(d.OutputTail(t));
                }
                else
                {
                    d.WriteOutput(writer);
                    writer.WriteLine();
                }
            }
        }

        static string Header(string past) => past[..(past.IndexOf('\n', StringComparison.Ordinal) + 1)];
    }

    /// <summary>Kills every daemon still running (SIGKILL also ends a stopped one).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var d in daemons)
        {
            if (d is not null)
            {
                await d.DisposeAsync();
            }
        }
    }
}
