using System.Globalization;

namespace Farm.Core.Config;

/// <summary>
/// Changes one node's <c>weight</c> and the file's <c>version</c> in the text of a cluster file, leaving every other
/// character as it was (comments, order, quoting): what an admin would do by hand before <c>farmctl config apply</c>.
/// Block-style mappings only (the form every example uses); anything else is refused with the reason.
/// </summary>
public static class ClusterFileEdit
{
    /// <summary>The edited text, or null and why not.</summary>
    public static (string? Text, string? Error) WithWeight(string text, string node, int weight, int version)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (weight is < 0 or > NodeConfig.MaxWeight)
        {
            return (null, $"weight {weight} is out of range: 0 to {NodeConfig.MaxWeight}");
        }

        var diagnostics = new ConfigDiagnostics("cluster file");
        if (YamlTreeReader.Read(text, diagnostics) is not YamlMapNode root || Value(root, "cluster") is not YamlMapNode cluster)
        {
            return (null, "the running cluster file does not parse as a cluster file");
        }

        if (Value(cluster, "nodes") is not YamlListNode nodes
            || nodes.Items.OfType<YamlMapNode>().FirstOrDefault(n => Value(n, "name") is YamlScalarNode s && s.Value == node) is not { } entry)
        {
            return (null, $"unknown node '{node}'");
        }

        var lines = text.Split('\n').ToList();
        var edits = new List<(int Line, Func<List<string>, string?> Apply)>();

        // Edited from the last line up, so the earlier positions still hold.
        string? Replace(YamlScalarNode scalar, string value, string what)
        {
            string line = lines[scalar.Line - 1];
            int start = scalar.Column - 1;
            if (!scalar.IsPlain || start + scalar.Value.Length > line.Length || line.Substring(start, scalar.Value.Length) != scalar.Value)
            {
                return $"{what} at line {scalar.Line} is not a plain number: edit the file by hand";
            }

            lines[scalar.Line - 1] = string.Concat(line.AsSpan(0, start), value, line.AsSpan(start + scalar.Value.Length));
            return null;
        }

        string? InsertBefore(YamlScalarNode key, string entry, bool after)
        {
            string line = lines[key.Line - 1];
            string before = line[..Math.Min(key.Column - 1, line.Length)];
            if (before.Trim().Trim('-').Trim().Length > 0)
            {
                return $"the mapping at line {key.Line} is not in block style: edit the file by hand";
            }

            lines.Insert(after ? key.Line : key.Line - 1, new string(' ', key.Column - 1) + entry);
            return null;
        }

        string weightText = weight.ToString(CultureInfo.InvariantCulture);
        string versionText = version.ToString(CultureInfo.InvariantCulture);
        var nameKey = entry.Entries.First(e => e.Key.Value == "name").Key;
        if (Value(cluster, "version") is YamlScalarNode versionNode)
        {
            edits.Add((versionNode.Line, _ => Replace(versionNode, versionText, "version")));
        }
        else
        {
            var first = cluster.Entries[0].Key;
            edits.Add((first.Line, _ => InsertBefore(first, "version: " + versionText, after: false)));
        }

        if (Value(entry, "weight") is YamlScalarNode weightNode)
        {
            edits.Add((weightNode.Line, _ => Replace(weightNode, weightText, "the weight of " + node)));
        }
        else
        {
            edits.Add((nameKey.Line, _ => InsertBefore(nameKey, "weight: " + weightText, after: true)));
        }

        foreach (var (_, apply) in edits.OrderByDescending(e => e.Line))
        {
            if (apply(lines) is { } error)
            {
                return (null, error);
            }
        }

        return (string.Join('\n', lines), null);
    }

    private static YamlNodeBase? Value(YamlMapNode map, string key) => map.Entries.FirstOrDefault(e => e.Key.Value == key).Value;
}
