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

        w.WriteStartArray("nodes");
        foreach (var node in report.Nodes)
        {
            w.WriteStartObject();
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

            w.WriteStartArray("modules");
            foreach (var module in node.Buckets)
            {
                w.WriteStartObject();
                w.WriteString("module", module.Module);
                w.WriteString("readiness", StatusWords.Readiness(module.Readiness));
                w.WriteNumber("buckets", module.Buckets);
                w.WriteNumber("bucket_count", module.BucketCount);
                w.WriteNumber("share_percent", StatusWords.SharePercent(module));
                w.WriteNumberOrNull("incoming", module.HasIncoming ? module.Incoming : null);
                w.WriteNumberOrNull("draining", module.HasDraining ? module.Draining : null);
                w.WriteNumberOrNull("oldest_drain_ms", module.HasOldestDrainAgeMs ? module.OldestDrainAgeMs : null);
                w.WriteEndObject();
            }

            w.WriteEndArray();

            w.WriteStartArray("lans");
            foreach (var lan in node.Lans)
            {
                w.WriteStartObject();
                w.WriteString("lan", lan.Lan);
                w.WriteString("address", lan.Address);
                w.WriteBoolean("reachable", lan.Reachable);
                w.WriteNumberOrNull("last_heard_ms", lan.LastHeardAgeMs >= 0 ? lan.LastHeardAgeMs : null);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("config_mismatches");
        foreach (var mismatch in report.ConfigMismatches)
        {
            w.WriteStartObject();
            w.WriteString("node", mismatch.Node);
            w.WriteString("their_hash", mismatch.TheirHash);
            w.WriteString("our_hash", mismatch.OurHash);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("module_mismatches");
        foreach (var mismatch in report.ModuleMismatches)
        {
            w.WriteStartObject();
            w.WriteString("module", mismatch.Module);
            w.WriteString("node", mismatch.Node);
            w.WriteString("their_hash", mismatch.TheirHash);
            w.WriteString("agreed_hash", mismatch.AgreedHash);
            w.WriteStartArray("settings");
            foreach (var setting in mismatch.Settings)
            {
                w.WriteStringValue(setting);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("rejected");
        foreach (var rejection in report.Rejected)
        {
            w.WriteStartObject();
            w.WriteString("source", rejection.Source);
            w.WriteString("reason", rejection.Reason);
            w.WriteNumber("count", rejection.Count);
            w.WriteStringOrNull("last_claimed_sender", rejection.LastClaimedSender);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        // The answering node's modules (their state is known to that node only).
        w.WriteStartArray("module_states");
        foreach (var module in report.Modules)
        {
            ModuleJson.Write(w, module);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
