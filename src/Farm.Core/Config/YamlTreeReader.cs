using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Farm.Core.Config;

/// <summary>
/// Reads YAML text into the located tree (<see cref="YamlNodeBase"/>) from YamlDotNet's event parser.
/// </summary>
/// <remarks>
/// The event parser is used rather than <c>YamlStream</c> because the representation model throws on
/// a duplicate key, which would hide every other error of the file; here duplicates are kept and
/// reported by the binders.
/// </remarks>
internal static partial class YamlTreeReader
{
    /// <summary>Parses <paramref name="text"/>; on a syntax error adds one located error and returns null.</summary>
    public static YamlNodeBase? Read(string text, ConfigDiagnostics diagnostics)
    {
        var anchors = new Dictionary<string, YamlNodeBase>(StringComparer.Ordinal);
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                diagnostics.Add(1, 1, "the file is empty", "start with 'cluster:' for a cluster file or 'module:' for a module's farm.yaml");
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, anchors);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                diagnostics.Add(Line(second.Start), Column(second.Start), "the file holds more than one YAML document", "keep one document per file: remove the extra '---'");
            }

            return root;
        }
        catch (YamlException ex)
        {
            diagnostics.Add(Line(ex.Start), Column(ex.Start), "invalid YAML: " + CleanMessage(ex.Message), "check the indentation, a missing ':' or an unclosed quote or bracket at or just before this position");
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this instead of a YamlException on some malformed flow collections
            // (e.g. an unclosed '[' followed by more lines); the last event parsed is the best position we have.
            var at = parser.Current?.End ?? Mark.Empty;
            diagnostics.Add(Line(at), Column(at), "invalid YAML: malformed value after this position", "check for an unclosed '[' or '{' or an unclosed quote");
            return null;
        }
    }

    private static YamlNodeBase ReadNode(IParser parser, Dictionary<string, YamlNodeBase> anchors)
    {
        var ev = parser.Consume<ParsingEvent>();
        YamlNodeBase node;
        switch (ev)
        {
            case AnchorAlias alias:
                if (!anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw new SemanticErrorException(alias.Start, alias.End, $"alias '*{alias.Value.Value}' refers to no anchor");
                }

                return target;
            case Scalar scalar:
                // An explicit !!str tag turns even a plain token into a string.
                bool plain = scalar.Style == ScalarStyle.Plain && !(!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value.EndsWith(":str", StringComparison.Ordinal));
                node = new YamlScalarNode(Line(ev.Start), Column(ev.Start), scalar.Value, plain);
                break;
            case SequenceStart:
                var list = new YamlListNode(Line(ev.Start), Column(ev.Start));
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    list.Items.Add(ReadNode(parser, anchors));
                }

                node = list;
                break;
            case MappingStart:
                var map = new YamlMapNode(Line(ev.Start), Column(ev.Start));
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = ReadNode(parser, anchors);
                    var value = ReadNode(parser, anchors);
                    // Complex keys (a mapping or list as a key) never name a setting; keep their position for the error.
                    var keyScalar = key as YamlScalarNode ?? new YamlScalarNode(key.Line, key.Column, "<" + key.Describe() + ">", isPlain: false);
                    map.Entries.Add(new(keyScalar, value));
                }

                node = map;
                break;
            default:
                throw new SemanticErrorException(ev.Start, ev.End, "unexpected YAML event " + ev.GetType().Name);
        }

        if (ev is NodeEvent { Anchor.IsEmpty: false } anchored)
        {
            anchors[anchored.Anchor.Value] = node;
        }

        return node;
    }

    private static int Line(Mark mark) => (int)Math.Max(1, mark.Line);

    private static int Column(Mark mark) => (int)Math.Max(1, mark.Column);

    // YamlDotNet prefixes its messages with "(Line: 3, Col: 5, Idx: 20) - (Line: 3, Col: 6, Idx: 21): "; the location is ours to print.
    private static string CleanMessage(string message)
    {
        var text = PositionPrefix().Replace(message, string.Empty).Trim();
        if (text.EndsWith('.'))
        {
            text = text[..^1];
        }

        return text.Length > 0 && char.IsUpper(text[0]) ? char.ToLowerInvariant(text[0]) + text[1..] : text;
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex PositionPrefix();
}
