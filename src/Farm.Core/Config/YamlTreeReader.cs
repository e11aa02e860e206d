using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Farm.Core.Config;

/// <summary>
/// Reads YAML text into the located tree (<see cref="YamlNodeBase"/>) from YamlDotNet's event parser, within
/// <see cref="ConfigLimits"/>.
/// </summary>
/// <remarks>
/// The event parser is used rather than <c>YamlStream</c> because the representation model throws on a duplicate key,
/// which would hide every other error of the file; here duplicates are kept and reported by the binders. YamlDotNet's
/// own limits (<c>WithMaximumRecursion</c>) belong to its deserializer, not to the event parser, so the depth and the
/// alias expansion are bounded here: an alias returns the anchored node itself (the tree shares it), but it counts as
/// the whole node it repeats, because the binders walk it once per reference.
/// </remarks>
internal static partial class YamlTreeReader
{
    /// <summary>Parses <paramref name="text"/>; on a syntax error or a limit adds one located error and returns null.</summary>
    public static YamlNodeBase? Read(string text, ConfigDiagnostics diagnostics)
    {
        if (text.Length > ConfigLimits.MaxFileLength)
        {
            diagnostics.Add(1, 1, $"the file holds {text.Length} characters, more than the limit of {ConfigLimits.MaxFileLength}", "a configuration file is a few kilobytes: check that this is the right file");
            return null;
        }

        var state = new ReadState(new Parser(new StringReader(text)));
        var parser = state.Parser;
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                diagnostics.Add(1, 1, "the file is empty", "start with 'cluster:' for a cluster file or 'module:' for a module's farm.yaml");
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode(state, 1);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                diagnostics.Add(Line(second.Start), Column(second.Start), "the file holds more than one YAML document", "keep one document per file: remove the extra '---'");
            }

            return root;
        }
        catch (LimitException ex)
        {
            diagnostics.Add(Line(ex.At), Column(ex.At), ex.Message, ex.Hint);
            return null;
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

    private static YamlNodeBase ReadNode(ReadState state, int depth)
    {
        var parser = state.Parser;
        var ev = parser.Consume<ParsingEvent>();
        YamlNodeBase node;
        switch (ev)
        {
            case AnchorAlias alias:
                if (!state.Anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    throw new SemanticErrorException(alias.Start, alias.End, $"alias '*{alias.Value.Value}' refers to no anchor");
                }

                state.Count(target.Size, alias.Start);
                return target;
            case Scalar scalar:
                state.Count(1, ev.Start);
                // An explicit !!str tag turns even a plain token into a string.
                bool plain = scalar.Style == ScalarStyle.Plain && !(!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value.EndsWith(":str", StringComparison.Ordinal));
                node = new YamlScalarNode(Line(ev.Start), Column(ev.Start), scalar.Value, plain);
                break;
            case SequenceStart:
                var list = Open(state, depth, ev.Start, new YamlListNode(Line(ev.Start), Column(ev.Start)));
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    list.Items.Add(ReadChild(state, depth, list));
                }

                node = list;
                break;
            case MappingStart:
                var map = Open(state, depth, ev.Start, new YamlMapNode(Line(ev.Start), Column(ev.Start)));
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = ReadChild(state, depth, map);
                    var value = ReadChild(state, depth, map);
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
            state.Anchors[anchored.Anchor.Value] = node;
        }

        return node;
    }

    /// <summary>A list or mapping just started at <paramref name="at"/>: checks the nesting and counts it.</summary>
    private static T Open<T>(ReadState state, int depth, Mark at, T collection)
        where T : YamlNodeBase
    {
        CheckDepth(depth, at);
        state.Count(1, at);
        return collection;
    }

    /// <summary>Reads one node inside <paramref name="parent"/> and adds its size to the parent's.</summary>
    private static YamlNodeBase ReadChild(ReadState state, int depth, YamlNodeBase parent)
    {
        var child = ReadNode(state, depth + 1);
        parent.Size += child.Size;
        return child;
    }

    private static void CheckDepth(int depth, Mark at)
    {
        if (depth > ConfigLimits.MaxDepth)
        {
            throw new LimitException(at, $"the YAML nests deeper than {ConfigLimits.MaxDepth} levels", "a configuration nests a few levels deep: check for runaway '[' or '{' or indentation");
        }
    }

    private static int Line(Mark mark) => (int)Math.Clamp(mark.Line, 1, int.MaxValue);

    private static int Column(Mark mark) => (int)Math.Clamp(mark.Column, 1, int.MaxValue);

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

    /// <summary>The parser, the anchors seen so far and the running node count of one read.</summary>
    private sealed class ReadState(Parser parser)
    {
        private int nodes;

        public Parser Parser { get; } = parser;

        public Dictionary<string, YamlNodeBase> Anchors { get; } = new(StringComparer.Ordinal);

        /// <summary>Adds <paramref name="size"/> nodes (an alias: the size of what it repeats); throws past the limit.</summary>
        public void Count(int size, Mark at)
        {
            // size never exceeds the limit (an anchored node was counted), so the sum cannot overflow.
            nodes += size;
            if (nodes > ConfigLimits.MaxNodes)
            {
                throw new LimitException(
                    at,
                    $"the YAML holds more than {ConfigLimits.MaxNodes} nodes (each alias counts as the whole node it repeats)",
                    "a configuration holds a few thousand values: check for aliases that repeat large anchors, or for runaway lists");
            }
        }
    }

    /// <summary>A limit of <see cref="ConfigLimits"/> was reached; reported as one located error.</summary>
    private sealed class LimitException(Mark at, string message, string hint) : Exception(message)
    {
        public Mark At { get; } = at;

        public string Hint { get; } = hint;
    }
}
