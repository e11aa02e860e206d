using System.Text;
using System.Text.Json;

namespace Farm.Protocol.Json;

/// <summary>The pieces every JSON output of farmctl (<c>--json</c>) and the web console shares: one object written to a string, and null for absent values.</summary>
public static class JsonText
{
    /// <summary>What <paramref name="write"/> writes, as a string; <paramref name="indented"/> for one-shot output, compact (one line) otherwise.</summary>
    public static string Format(Action<Utf8JsonWriter> write, bool indented)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream();
        // Relaxed escaping: the output is read by scripts and people, never embedded in HTML; messages keep their ` and '.
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(w);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>One object holding what <paramref name="writeFields"/> writes, as a string (see <see cref="Format"/>).</summary>
    public static string FormatObject(Action<Utf8JsonWriter> writeFields, bool indented)
    {
        ArgumentNullException.ThrowIfNull(writeFields);
        return Format(w => WriteObjectOf(w, writeFields), indented);
    }

    /// <summary>Writes the array <paramref name="name"/>: one object per item, holding what <paramref name="writeFields"/> writes of it.</summary>
    public static void WriteObjects<T>(this Utf8JsonWriter w, string name, IEnumerable<T> items, Action<Utf8JsonWriter, T> writeFields)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(writeFields);
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            WriteObjectOf(w, writer => writeFields(writer, item));
        }

        w.WriteEndArray();
    }

    /// <summary>Writes the array <paramref name="name"/> of <paramref name="values"/>.</summary>
    public static void WriteStrings(this Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(values);
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    /// <summary>Writes <paramref name="value"/>, or null when it is null or empty (protobuf's "not set").</summary>
    public static void WriteStringOrNull(this Utf8JsonWriter w, string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (string.IsNullOrEmpty(value))
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    /// <summary>Writes <paramref name="value"/>, or null when there is none.</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter w, string name, long? value)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteObjectOf(Utf8JsonWriter w, Action<Utf8JsonWriter> writeFields)
    {
        w.WriteStartObject();
        writeFields(w);
        w.WriteEndObject();
    }
}
