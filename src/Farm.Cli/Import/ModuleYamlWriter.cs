using System.Xml.Linq;

namespace Farm.Cli.Import;

/// <summary>Writes a <see cref="ModuleDraft"/> as farm.yaml and remembers, for every line, the XML node it came from.</summary>
internal sealed class ModuleYamlWriter
{
    private readonly StringBuilder text = new();
    private readonly List<XObject?> sources = [];

    /// <summary>Renders <paramref name="draft"/> after a header of comment lines.</summary>
    public static ModuleYamlWriter Render(ModuleDraft draft, IEnumerable<string> header)
    {
        var y = new ModuleYamlWriter();
        foreach (string comment in header)
        {
            y.Line("# " + comment, null);
        }

        y.Line("module:", null);
        y.Line($"  name: {draft.Name}", null);
        y.Line("  vips:", null);
        foreach (var (address, from) in draft.Vips)
        {
            y.Line($"    - {Quote(address)}", from);
        }

        y.Line($"  interface: {Quote(draft.Interface.Value)}", draft.Interface.From);
        y.Line("  mode: balance", null);
        y.Line("  rules:", null);
        foreach (var rule in draft.Rules)
        {
            string ports = rule.Ports.All(char.IsAsciiDigit) && rule.Ports.Length > 0 ? rule.Ports : Quote(rule.Ports);
            y.Line($"    - {{ protocol: {rule.Protocol}, ports: {ports}, affinity: {rule.Affinity} }}", rule.From);
        }

        foreach (var section in draft.Settings.GroupBy(s => s.Section))
        {
            y.Line($"  {section.Key}:", section.First().From);
            foreach (var (_, key, value, from) in section)
            {
                y.Line($"    {key}: {value}", from);
            }
        }

        if (draft.Checkers.Count > 0)
        {
            y.Line("  checkers:", null);
            foreach (var checker in draft.Checkers)
            {
                var (line, _) = SafeKitSource.Position(checker.From);
                y.Line($"    - name: {checker.Name}            # line {line}: <{(checker.From as XElement)?.Name.LocalName}>", checker.From);
                y.Line($"      type: {checker.Type}", checker.From);
                foreach (var (key, value) in checker.Fields)
                {
                    y.Line($"      {key}: {value}", checker.From);
                }
            }
        }

        return y;
    }

    /// <summary>The YAML text.</summary>
    public string Text => text.ToString();

    /// <summary>The XML node line <paramref name="line"/> (1-based) came from, or null for lines of the writer's own.</summary>
    public XObject? SourceOf(int line) => line >= 1 && line <= sources.Count ? sources[line - 1] : null;

    /// <summary>A YAML single-quoted string: every character literal, quotes doubled.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private void Line(string line, XObject? from)
    {
        text.Append(line).Append('\n');
        sources.Add(from);
    }
}
