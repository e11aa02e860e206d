using System.Runtime.CompilerServices;
using System.Text.Json;
using Farm.Protocol.Json;
using Farm.WebConsole;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Web;

/// <summary>
/// The web console's feed: the node's status (the stream farmctl status --watch reads) with, per module, the owner of
/// every bucket in the installed view and this node's hand-over states, and the tail of each module's log on this node,
/// as one JSON document per change (and at least every <see cref="Refresh"/>).
/// </summary>
/// <param name="status">The node's status.</param>
/// <param name="timeProvider">The clock of the watch.</param>
/// <param name="logTail">The last lines of a module's log on this node (what <c>farmctl logs</c> reads), or none.</param>
internal sealed class ConsoleFeed(StatusBuilder status, TimeProvider timeProvider, Func<string, IReadOnlyList<ModuleLogLine>>? logTail = null) : IConsoleFeed
{
    /// <summary>Lines of each module's log the page shows.</summary>
    public const int LogTailLines = 20;

    /// <summary>How often a change is looked for (as for WatchStatus).</summary>
    public static readonly TimeSpan Interval = AdminService.WatchInterval;

    /// <summary>A document goes out at least this often, so the ages it shows stay current.</summary>
    public static readonly TimeSpan Refresh = TimeSpan.FromSeconds(2);

    /// <inheritdoc />
    public async IAsyncEnumerable<string> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var report in status.WatchAsync(timeProvider, Interval, Refresh, cancellationToken))
        {
            var (view, ownership) = status.Host.Read((m, _) => (m.Installed, m.Ownership));
            yield return Render(report, view, ownership, logTail);
        }
    }

    /// <summary>
    /// The JSON document of one status report (<c>status</c>: as <c>farmctl status --json</c> writes it, field names in
    /// docs/cli.md) with the installed view's owner of every bucket and this node's hand-over states (<c>tables</c>).
    /// </summary>
    internal static string Render(Wire.NodeStatusReport report, ClusterView? view, OwnershipSnapshot? ownership, Func<string, IReadOnlyList<ModuleLogLine>>? logTail = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonText.Format(
            w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("status");
                StatusJson.Write(w, report);
                WriteTables(w, report, view, ownership);
                WriteLogs(w, report, logTail);
                w.WriteEndObject();
            },
            indented: false);
    }

    /// <summary>Per module: the owner of each bucket as an index into <c>nodes</c> (-1: none), and this node's hand-over.</summary>
    private static void WriteTables(Utf8JsonWriter w, Wire.NodeStatusReport report, ClusterView? view, OwnershipSnapshot? ownership)
    {
        var index = report.Nodes.Select((n, i) => (n.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        var modules = report.Nodes.FirstOrDefault(n => n.IsSelf)?.Buckets.Select(b => (b.Module, b.BucketCount)) ?? [];
        w.WriteStartArray("tables");
        foreach (var (module, count) in modules)
        {
            w.WriteStartObject();
            w.WriteString("module", module);
            w.WriteNumber("buckets", count);
            w.WriteStartArray("owners");
            var table = view?.Tables.GetValueOrDefault(module);
            for (int b = 0; b < count; b++)
            {
                string? owner = table is not null && b < table.BucketCount ? table.OwnerOf(b) : null;
                w.WriteNumberValue(owner is not null && index.TryGetValue(owner, out int i) ? i : -1);
            }

            w.WriteEndArray();
            var states = ownership?.Modules.GetValueOrDefault(module);
            WriteBuckets(w, "incoming", states, BucketState.Incoming, BucketState.Claimed);
            WriteBuckets(w, "draining", states, BucketState.Draining);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>Per module of this node: its last log lines, oldest first (<c>logs</c>: module → [{time, level, text}]).</summary>
    private static void WriteLogs(Utf8JsonWriter w, Wire.NodeStatusReport report, Func<string, IReadOnlyList<ModuleLogLine>>? logTail)
    {
        w.WriteStartObject("logs");
        foreach (var module in logTail is null ? [] : report.Modules.Select(m => m.Module))
        {
            w.WriteStartArray(module);
            foreach (var line in logTail!(module))
            {
                w.WriteStartObject();
                w.WriteString("time", line.Time.ToString("O", CultureInfo.InvariantCulture));
                w.WriteString("level", line.LevelName);
                w.WriteString("text", line.Text);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteBuckets(Utf8JsonWriter w, string name, ModuleOwnership? states, params BucketState[] wanted)
    {
        w.WriteStartArray(name);
        if (states is not null)
        {
            var span = states.States;
            for (int b = 0; b < span.Length; b++)
            {
                if (Array.IndexOf(wanted, span[b]) >= 0)
                {
                    w.WriteNumberValue(b);
                }
            }
        }

        w.WriteEndArray();
    }
}
