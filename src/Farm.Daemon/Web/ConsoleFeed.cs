using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Farm.Cluster.Membership;
using Farm.Daemon.Admin;
using Farm.WebConsole;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Web;

/// <summary>
/// The web console's feed: the node's status (the stream farmctl status --watch reads) with, per module, the owner of
/// every bucket in the installed view and this node's hand-over states, as one JSON document per change.
/// </summary>
internal sealed class ConsoleFeed(StatusBuilder status, TimeProvider timeProvider) : IConsoleFeed
{
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
            yield return Render(report, view, ownership);
        }
    }

    /// <summary>The JSON document of one status report, the installed view and this node's bucket states.</summary>
    internal static string Render(Wire.NodeStatusReport report, ClusterView? view, OwnershipSnapshot? ownership)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("cluster", report.Cluster);
            w.WriteString("node", report.Node);
            w.WriteNumber("epoch", report.InstalledEpoch);
            w.WriteString("coordinator", report.Coordinator);
            w.WriteNumber("configVersion", report.ConfigVersion);
            w.WriteBoolean("leaving", report.Leaving);
            WriteNodes(w, report);
            WriteTables(w, report, view, ownership);
            WriteLocalModules(w, report);
            w.WriteStartArray("rejected");
            foreach (var r in report.Rejected)
            {
                w.WriteStartObject();
                w.WriteString("source", r.Source);
                w.WriteString("reason", r.Reason);
                w.WriteNumber("count", r.Count);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteNodes(Utf8JsonWriter w, Wire.NodeStatusReport report)
    {
        w.WriteStartArray("nodes");
        foreach (var node in report.Nodes)
        {
            w.WriteStartObject();
            w.WriteString("name", node.Name);
            w.WriteBoolean("self", node.IsSelf);
            w.WriteString("state", node.State.ToString().ToLowerInvariant());
            w.WriteBoolean("inView", node.InView);
            w.WriteNumber("weight", node.Weight);
            w.WriteString("drain", node.DrainState.ToString().ToLowerInvariant());
            w.WriteBoolean("configMatches", node.ConfigMatches);
            w.WriteStartArray("lans");
            foreach (var lan in node.Lans)
            {
                w.WriteStartObject();
                w.WriteString("lan", lan.Lan);
                w.WriteString("address", lan.Address);
                w.WriteBoolean("reachable", lan.Reachable);
                w.WriteNumber("lastHeardMs", lan.LastHeardAgeMs);
                w.WriteNumber("rttP50Us", lan.RttP50Us);
                w.WriteNumber("rttP99Us", lan.RttP99Us);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("buckets");
            foreach (var buckets in node.Buckets)
            {
                w.WriteStartObject(buckets.Module);
                w.WriteNumber("count", buckets.Buckets);
                w.WriteString("readiness", buckets.Readiness switch
                {
                    Wire.ModuleReadiness.Ready => "ready",
                    Wire.ModuleReadiness.NotReady => "not ready",
                    _ => "unknown",
                });
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
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

    private static void WriteLocalModules(Utf8JsonWriter w, Wire.NodeStatusReport report)
    {
        w.WriteStartArray("modules");
        foreach (var module in report.Modules)
        {
            w.WriteStartObject();
            w.WriteString("module", module.Module);
            w.WriteString("mode", module.Mode);
            w.WriteString("state", module.State.ToString().ToUpperInvariant());
            w.WriteString("substate", module.SubState.ToString());
            w.WriteString("reason", module.Reason);
            w.WriteString("step", module.Step);
            w.WriteBoolean("trafficOpen", module.TrafficOpen);
            w.WriteBoolean("primary", module.Primary);
            w.WriteNumber("recoveries", module.RecoveryCount);
            w.WriteNumber("maxLoop", module.MaxLoop);
            w.WriteString("dataPlane", module.DataPlane);
            w.WriteStartArray("checkers");
            foreach (var checker in module.Checkers)
            {
                w.WriteStartObject();
                w.WriteString("name", checker.Name);
                w.WriteString("type", checker.Type);
                w.WriteString("action", checker.Action);
                if (checker.HasUp)
                {
                    w.WriteBoolean("up", checker.Up);
                }
                else
                {
                    w.WriteNull("up");
                }

                w.WriteString("detail", checker.Detail);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
