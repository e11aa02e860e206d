using System.Text.Json;
using Farm.Protocol.V1;

namespace Farm.Protocol.Json;

/// <summary>A module's state as JSON, with the field names of docs/cli.md (status <c>modules[]</c>, start/stop/restart <c>results[].module</c>).</summary>
public static class ModuleJson
{
    /// <summary>Writes the module as one JSON object.</summary>
    public static void Write(Utf8JsonWriter w, ModuleReport m)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        WriteFields(w, m);
        w.WriteEndObject();
    }

    /// <summary>Writes the module's fields into the object being written (as an item of <see cref="JsonText.WriteObjects"/>).</summary>
    public static void WriteFields(Utf8JsonWriter w, ModuleReport m)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(m);
        w.WriteString("module", m.Module);
        w.WriteString("mode", m.Mode);
        w.WriteString("state", StatusWords.ModuleState(m.State));
        w.WriteString("sub_state", StatusWords.ModuleSubState(m.SubState));
        w.WriteString("reason", m.Reason);
        w.WriteNumber("since_unix_ms", m.SinceUnixMs);
        w.WriteStringOrNull("step", m.Step);
        w.WriteNumber("recovery_count", m.RecoveryCount);
        w.WriteNumber("max_loop", m.MaxLoop);
        w.WriteBoolean("primary", m.Primary);
        w.WriteBoolean("traffic_open", m.TrafficOpen);
        w.WriteString("data_plane", m.DataPlane);
        w.WriteObjects("checkers", m.Checkers, WriteChecker);
    }

    private static void WriteChecker(Utf8JsonWriter w, CheckerReport c)
    {
        w.WriteString("name", c.Name);
        w.WriteString("type", c.Type);
        w.WriteString("action", c.Action);
        if (c.HasUp)
        {
            w.WriteBoolean("up", c.Up);
        }
        else
        {
            w.WriteNull("up");
        }

        w.WriteString("detail", c.Detail);
        w.WriteNumberOrNull("since_unix_ms", c.SinceUnixMs > 0 ? c.SinceUnixMs : null);
    }
}
