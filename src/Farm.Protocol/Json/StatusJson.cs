using System.Text.Json;
using Farm.Protocol.V1;

namespace Farm.Protocol.Json;

/// <summary>
/// <c>farmctl status --json</c> (and the web console's feed): the status with the field names documented in docs/cli.md. Written by hand rather than
/// from the protobuf message, so renaming a proto field never breaks a script.
/// </summary>
public static class StatusJson
{
    /// <summary>The report as one JSON object; <paramref name="indented"/> for one-shot output, compact (one line) for --watch.</summary>
    public static string Format(NodeStatusReport report, bool indented)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonText.Format(w => Write(w, report), indented);
    }

    /// <summary>Writes the report as one JSON object (farmctl status --json, the web console).</summary>
    public static void Write(Utf8JsonWriter w, NodeStatusReport report)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(report);
        w.WriteStartObject();
        w.WriteString("cluster", report.Cluster);
        w.WriteString("node", report.Node);
        w.WriteNumber("incarnation", report.Incarnation);
        w.WriteString("config_hash", report.ConfigHash);
        w.WriteNumber("config_version", report.ConfigVersion);
        w.WriteNumber("epoch", report.InstalledEpoch);
        w.WriteStringOrNull("coordinator", report.Coordinator);
        w.WriteBoolean("leaving", report.Leaving);
        w.WriteObjects("nodes", report.Nodes, WriteNode);
        w.WriteObjects("config_mismatches", report.ConfigMismatches, WriteConfigMismatch);
        w.WriteObjects("module_mismatches", report.ModuleMismatches, WriteModuleMismatch);
        w.WriteObjects("rejected", report.Rejected, WriteRejection);

        // The answering node's modules (their state is known to that node only).
        w.WriteObjects("module_states", report.Modules, ModuleJson.WriteFields);
        w.WriteEndObject();
    }

    private static void WriteNode(Utf8JsonWriter w, NodeStatus node)
    {
        w.WriteString("name", node.Name);
        w.WriteBoolean("self", node.IsSelf);
        w.WriteString("state", StatusWords.State(node.State));
        w.WriteNumber("incarnation", node.Incarnation);
        w.WriteBoolean("in_view", node.InView);
        w.WriteBoolean("leaving", node.Leaving);
        w.WriteString("drain_state", StatusWords.Drain(node.DrainState));
        w.WriteNumber("weight", node.Weight);
        w.WriteBoolean("config_matches", node.ConfigMatches);
        w.WriteStringOrNull("config_hash", node.ConfigHash);
        w.WriteObjects("modules", node.Buckets, WriteModuleBuckets);
        w.WriteObjects("lans", node.Lans, WriteLan);
    }

    private static void WriteModuleBuckets(Utf8JsonWriter w, ModuleBuckets module)
    {
        w.WriteString("module", module.Module);
        w.WriteString("readiness", StatusWords.Readiness(module.Readiness));
        w.WriteNumber("buckets", module.Buckets);
        w.WriteNumber("bucket_count", module.BucketCount);
        w.WriteNumber("share_percent", StatusWords.SharePercent(module));
        w.WriteNumberOrNull("incoming", module.HasIncoming ? module.Incoming : null);
        w.WriteNumberOrNull("draining", module.HasDraining ? module.Draining : null);
        w.WriteNumberOrNull("oldest_drain_ms", module.HasOldestDrainAgeMs ? module.OldestDrainAgeMs : null);
    }

    private static void WriteLan(Utf8JsonWriter w, LanReachability lan)
    {
        w.WriteString("lan", lan.Lan);
        w.WriteString("address", lan.Address);
        w.WriteBoolean("reachable", lan.Reachable);
        w.WriteNumberOrNull("last_heard_ms", lan.LastHeardAgeMs >= 0 ? lan.LastHeardAgeMs : null);
    }

    private static void WriteConfigMismatch(Utf8JsonWriter w, ConfigMismatch mismatch)
    {
        w.WriteString("node", mismatch.Node);
        w.WriteString("their_hash", mismatch.TheirHash);
        w.WriteString("our_hash", mismatch.OurHash);
    }

    private static void WriteModuleMismatch(Utf8JsonWriter w, ModuleMismatch mismatch)
    {
        w.WriteString("module", mismatch.Module);
        w.WriteString("node", mismatch.Node);
        w.WriteString("their_hash", mismatch.TheirHash);
        w.WriteString("agreed_hash", mismatch.AgreedHash);
        w.WriteStrings("settings", mismatch.Settings);
    }

    private static void WriteRejection(Utf8JsonWriter w, RejectionCounter rejection)
    {
        w.WriteString("source", rejection.Source);
        w.WriteString("reason", rejection.Reason);
        w.WriteNumber("count", rejection.Count);
        w.WriteStringOrNull("last_claimed_sender", rejection.LastClaimedSender);
    }
}
