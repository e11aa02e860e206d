using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

namespace Farm.Cli.Import;

/// <summary>
/// Reads a parsed userconfig.xml the way SafeKit does: <c>%NAME%</c> replaced by the value of <c>&lt;macro name=NAME&gt;</c>,
/// durations with SafeKit's units and per-attribute default unit. Collects every message with the element's line; an
/// attribute a mapper did not claim is reported once as having no equivalent.
/// </summary>
internal sealed partial class SafeKitSource
{
    /// <summary>The hint of every warning that has no better one.</summary>
    public const string ReferenceHint = "see docs/modules.md, 'Import from SafeKit', for the nearest Farm setting";

    private readonly Dictionary<string, string> macros = new(StringComparer.Ordinal);
    private readonly List<ImportMessage> messages = [];

    public SafeKitSource(string file) => File = file;

    /// <summary>The source file's name for messages.</summary>
    public string File { get; }

    /// <summary>Every message so far, in the order found.</summary>
    public IReadOnlyList<ImportMessage> Messages => messages;

    /// <summary>True when an error was reported.</summary>
    public bool HasErrors => messages.Any(m => m.IsError);

    /// <summary>Defines the macros of the document (<c>&lt;macro name value/&gt;</c>, anywhere in it).</summary>
    public void DefineMacros(XElement root)
    {
        foreach (var macro in root.Descendants("macro"))
        {
            string? name = (string?)macro.Attribute("name");
            if (string.IsNullOrEmpty(name))
            {
                Error(macro, "<macro> has no name", "write <macro name=\"NAME\" value=\"VALUE\"/>");
                continue;
            }

            macros[name] = (string?)macro.Attribute("value") ?? "";
            Claim(macro, "name", "value");
        }
    }

    public void Warn(XObject at, string message, string? hint = ReferenceHint) => Add(at, false, message, hint);

    public void Error(XObject at, string message, string? hint) => Add(at, true, message, hint);

    /// <summary>Adds a message at <paramref name="line"/>:<paramref name="column"/> (a position the caller mapped itself).</summary>
    public void Add(int line, int column, bool isError, string message, string? hint) =>
        messages.Add(new ImportMessage(File, line, column, isError, message, hint));

    /// <summary>Adds a message about another file than the XML (a script).</summary>
    public void Add(string file, int line, int column, bool isError, string message, string? hint) =>
        messages.Add(new ImportMessage(file, line, column, isError, message, hint));

    /// <summary>The value of an attribute with macros expanded, or null when it is absent.</summary>
    public string? Attr(XElement element, string name)
    {
        var attribute = element.Attribute(name);
        if (attribute is null)
        {
            return null;
        }

        return MacroPattern().Replace(attribute.Value, match =>
        {
            string macro = match.Groups[1].Value;
            if (macros.TryGetValue(macro, out string? value))
            {
                return value;
            }

            Error(attribute, $"%{macro}% in {Describe(attribute)} is not a macro of this file", $"define it with <macro name=\"{macro}\" value=\"...\"/> (SafeKit would also take an environment variable of that name; the import cannot)");
            return match.Value;
        }).Trim();
    }

    /// <summary>A required attribute: its expanded value, or null after an error naming the element.</summary>
    public string? Required(XElement element, string name, string example)
    {
        string? value = Attr(element, name);
        if (value is null)
        {
            Error(element, $"<{element.Name.LocalName}> has no '{name}' attribute", $"add {name}=\"{example}\"");
            return null;
        }

        if (value.Length == 0)
        {
            Error(element.Attribute(name)!, $"{Describe(element.Attribute(name)!)} is empty (an empty macro?)", $"give it a value, e.g. {name}=\"{example}\"");
            return null;
        }

        return value;
    }

    /// <summary>
    /// A SafeKit duration (<c>10</c>, <c>10s</c>, <c>700ms</c>, <c>1d</c>; a bare number is in <paramref name="defaultUnit"/>),
    /// or null when absent or malformed (then an error is reported).
    /// </summary>
    public TimeSpan? Duration(XElement element, string name, string defaultUnit)
    {
        if (Attr(element, name) is not { } text)
        {
            return null;
        }

        var match = DurationPattern().Match(text);
        if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > 100_000_000)
        {
            Error(element.Attribute(name)!, $"{Describe(element.Attribute(name)!)} is '{text}', not a duration", "write a whole number with one of the units d, h, m, s, ms, us, e.g. 10s");
            return null;
        }

        string unit = match.Groups[2].Value.Length == 0 ? defaultUnit : match.Groups[2].Value;
        long microseconds = unit switch
        {
            "d" => n * 86_400_000_000,
            "h" => n * 3_600_000_000,
            "m" => n * 60_000_000,
            "s" => n * 1_000_000,
            "ms" => n * 1000,
            _ => n,
        };
        if (microseconds % 1000 != 0)
        {
            Error(element.Attribute(name)!, $"{Describe(element.Attribute(name)!)} is '{text}': Farm counts time in whole milliseconds", "round it to milliseconds");
            return null;
        }

        return TimeSpan.FromMilliseconds(microseconds / 1000);
    }

    /// <summary>Marks attributes as handled; every other attribute of <paramref name="element"/> is reported as having no equivalent.</summary>
    public void Claim(XElement element, params string[] handled)
    {
        foreach (var attribute in element.Attributes())
        {
            if (!handled.Contains(attribute.Name.LocalName, StringComparer.Ordinal))
            {
                Warn(attribute, $"{Describe(attribute)} has no equivalent in Farm; ignored");
            }
        }
    }

    /// <summary>The children named <paramref name="name"/>, in order; every other child is reported as having no equivalent.</summary>
    public List<XElement> Children(XElement parent, string name)
    {
        var children = new List<XElement>();
        foreach (var child in parent.Elements())
        {
            if (child.Name.LocalName == name)
            {
                children.Add(child);
            }
            else
            {
                Unhandled(child);
            }
        }

        return children;
    }

    /// <summary>Reports a child element that no mapper handles.</summary>
    public void Unhandled(XElement element, string? hint = ReferenceHint) =>
        Warn(element, $"<{element.Name.LocalName}> has no equivalent in Farm; ignored", hint);

    /// <summary>
    /// Warns about an element Farm has no equivalent for: with the reason and what to do instead when
    /// <paramref name="known"/> names it, as unhandled otherwise.
    /// </summary>
    public void Unhandled(XElement element, IReadOnlyDictionary<string, (string Message, string Hint)> known)
    {
        ArgumentNullException.ThrowIfNull(element);
        ArgumentNullException.ThrowIfNull(known);
        if (known.TryGetValue(element.Name.LocalName, out var instead))
        {
            Warn(element, instead.Message, instead.Hint);
        }
        else
        {
            Unhandled(element);
        }
    }

    /// <summary>"attribute 'port' of &lt;rule&gt;", as messages name an attribute.</summary>
    public static string Describe(XAttribute attribute) => $"attribute '{attribute.Name.LocalName}' of <{attribute.Parent?.Name.LocalName}>";

    /// <summary>The 1-based line and column of a node of a document loaded with line information.</summary>
    public static (int Line, int Column) Position(XObject at) =>
        at is IXmlLineInfo info && info.HasLineInfo() ? (info.LineNumber, info.LinePosition) : (1, 1);

    /// <summary>A duration as farm.yaml writes it.</summary>
    public static string Format(TimeSpan value) => ConfigDuration.Format(value);

    private void Add(XObject at, bool isError, string message, string? hint)
    {
        var (line, column) = Position(at);
        messages.Add(new ImportMessage(File, line, column, isError, message, hint));
    }

    [GeneratedRegex("%([A-Za-z_][A-Za-z0-9_.-]*)%")]
    private static partial Regex MacroPattern();

    [GeneratedRegex("^([0-9]+)\\s*(d|h|m|s|ms|us)?$")]
    private static partial Regex DurationPattern();
}
