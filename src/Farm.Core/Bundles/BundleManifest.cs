using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Farm.Core.Config;

namespace Farm.Core.Bundles;

/// <summary>
/// A bundle's manifest (<c>bundle.json</c>): the module's name and version, the Farm releases it runs on, and the
/// SHA-256, size and mode of every other file. Its own SHA-256 is the bundle's hash (<c>farmctl module list</c>).
/// </summary>
public sealed partial record BundleManifest(string Name, string Version, FarmVersionRange Farm, IReadOnlyList<BundleManifest.Entry> Files)
{
    /// <summary>The manifest format this release writes and reads.</summary>
    public const int Format = 1;

    /// <summary>One file: its path, the SHA-256 of its bytes (lower-case hex), its size and its mode.</summary>
    public sealed record Entry(string Path, string Sha256, long Size, int Mode);

    /// <summary>True for a version usable as a folder name: numbers and dots, then optionally '-' or '+' and letters, digits, '.', '-'.</summary>
    public static bool IsValidVersion(string version) => version is { Length: > 0 and <= 64 } && VersionPattern().IsMatch(version);

    /// <summary>The manifest of <paramref name="files"/>, in path order.</summary>
    public static BundleManifest Describe(string name, string version, FarmVersionRange farm, IEnumerable<BundleFile> files) =>
        new(name, version, farm, [.. files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => new Entry(f.Path, Sha256(f.Content.Span), f.Content.Length, f.Mode))]);

    /// <summary>SHA-256 as lower-case hex.</summary>
    public static string Sha256(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>The manifest as written into a bundle (indented JSON, UTF-8, files in path order).</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format", Format);
            w.WriteString("name", Name);
            w.WriteString("version", Version);
            w.WriteString("farm", Farm.ToString());
            w.WriteStartArray("files");
            foreach (var f in Files)
            {
                w.WriteStartObject();
                w.WriteString("path", f.Path);
                w.WriteString("sha256", f.Sha256);
                w.WriteNumber("size", f.Size);
                w.WriteString("mode", Convert.ToString(f.Mode, 8).PadLeft(4, '0'));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Parses a manifest; every problem found is added to <paramref name="problems"/> (prefixed with <paramref name="where"/>).</summary>
    public static BundleManifest? Parse(ReadOnlySpan<byte> json, string where, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        int before = problems.Count;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            problems.Add($"{where}: not valid JSON: {ex.Message}");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{where}: not a JSON object");
                return null;
            }

            string? Text(string key)
            {
                if (root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String)
                {
                    return v.GetString();
                }

                problems.Add($"{where}: '{key}' is missing or not a string");
                return null;
            }

            if (!root.TryGetProperty("format", out var format) || !format.TryGetInt32(out int f) || f != Format)
            {
                problems.Add($"{where}: 'format' must be {Format} (this farm release reads bundles of format {Format}; pack the bundle with a farmctl of this release)");
            }

            string? name = Text("name");
            if (name is not null && !ConfigNames.IsValid(name))
            {
                problems.Add($"{where}: name '{BundlePaths.Printable(name)}' is not a valid module name");
            }

            string? version = Text("version");
            if (version is not null && !IsValidVersion(version))
            {
                problems.Add($"{where}: version '{BundlePaths.Printable(version)}' is not a version such as 1.2.0 or 1.2.0-rc1");
            }

            FarmVersionRange? farm = null;
            if (Text("farm") is { } range)
            {
                farm = FarmVersionRange.Parse(range, out string? rangeProblem);
                if (rangeProblem is not null)
                {
                    problems.Add($"{where}: farm: {rangeProblem}");
                }
            }

            var entries = new List<Entry>();
            if (!root.TryGetProperty("files", out var files) || files.ValueKind != JsonValueKind.Array)
            {
                problems.Add($"{where}: 'files' is missing or not a list");
            }
            else
            {
                foreach (var file in files.EnumerateArray())
                {
                    if (ParseEntry(file) is { } entry)
                    {
                        entries.Add(entry);
                    }
                    else
                    {
                        problems.Add($"{where}: a file entry needs 'path', 'sha256' (64 hex digits), 'size' and 'mode' (octal, e.g. \"0755\")");
                    }
                }

                foreach (var path in entries.GroupBy(e => e.Path, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key))
                {
                    problems.Add($"{where}: '{BundlePaths.Printable(path)}' is listed twice");
                }

                foreach (var entry in entries)
                {
                    if (BundlePaths.Problem(entry.Path) is { } pathProblem)
                    {
                        problems.Add($"{where}: {pathProblem}");
                    }
                    else if (entry.Path == BundlePaths.Manifest)
                    {
                        problems.Add($"{where}: the manifest cannot list itself");
                    }
                }
            }

            return problems.Count == before ? new BundleManifest(name!, version!, farm!, entries) : null;
        }
    }

    /// <summary>
    /// Every difference between this manifest and <paramref name="files"/> (path to content, the manifest excluded):
    /// a file missing, one not listed, a hash or size that differs. Empty when they match.
    /// </summary>
    public IReadOnlyList<string> Verify(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var problems = new List<string>();
        foreach (var entry in Files)
        {
            if (!files.TryGetValue(entry.Path, out var content))
            {
                problems.Add($"{entry.Path}: listed in the manifest but missing");
            }
            else if (content.Length != entry.Size || Sha256(content.Span) != entry.Sha256)
            {
                problems.Add($"{entry.Path}: its SHA-256 differs from the manifest's (altered after packing)");
            }
        }

        var listed = Files.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        foreach (string path in files.Keys.Where(p => p != BundlePaths.Manifest && !listed.Contains(p)).Order(StringComparer.Ordinal))
        {
            problems.Add($"{BundlePaths.Printable(path)}: not listed in the manifest (added after packing)");
        }

        return problems;
    }

    private static Entry? ParseEntry(JsonElement file)
    {
        if (file.ValueKind != JsonValueKind.Object
            || !file.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String
            || !file.TryGetProperty("sha256", out var sha) || sha.ValueKind != JsonValueKind.String || sha.GetString() is not { Length: 64 } hash
            || !hash.All(char.IsAsciiHexDigitLower)
            || !file.TryGetProperty("size", out var size) || !size.TryGetInt64(out long bytes) || bytes < 0
            || !file.TryGetProperty("mode", out var mode) || mode.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        string octal = mode.GetString()!;
        if (octal.Length is 0 or > 4 || octal.Any(c => c is < '0' or > '7'))
        {
            return null;
        }

        return new Entry(path.GetString()!, hash, bytes, Convert.ToInt32(octal, 8));
    }

    [GeneratedRegex("^[0-9]+(\\.[0-9]+){0,3}([-+][0-9A-Za-z][0-9A-Za-z.-]*)?$")]
    private static partial Regex VersionPattern();
}
