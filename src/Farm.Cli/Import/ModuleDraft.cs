using System.Xml.Linq;

namespace Farm.Cli.Import;

/// <summary>
/// The farm.yaml being built from userconfig.xml: values as they will be written (validated afterwards by the same
/// parser as <c>farmctl config check</c>), each with the XML node it came from so a refused value is reported there.
/// </summary>
internal sealed class ModuleDraft
{
    public required string Name { get; init; }

    public (string Value, XObject? From) Interface { get; set; }

    public List<(string Address, XObject From)> Vips { get; } = [];

    public List<RuleDraft> Rules { get; } = [];

    public List<CheckerDraft> Checkers { get; } = [];

    /// <summary>Scripts the import writes besides the copied ones (checker adapters), by path in the module folder.</summary>
    public Dictionary<string, string> GeneratedScripts { get; } = new(StringComparer.Ordinal);

    /// <summary><c>timeouts</c> and <c>arp</c> and <c>recovery</c> settings: YAML key path ("timeouts.stop") to value and source.</summary>
    public List<(string Section, string Key, string Value, XObject From)> Settings { get; } = [];

    /// <summary>Takes a checker name derived from <paramref name="wanted"/>, unique in the module.</summary>
    public string CheckerName(string wanted)
    {
        string name = Farm.Core.Config.ConfigNames.Suggest(wanted);
        string unique = name;
        for (int i = 2; Checkers.Any(c => c.Name == unique); i++)
        {
            string suffix = "-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            unique = name[..Math.Min(name.Length, 63 - suffix.Length)] + suffix;
        }

        return unique;
    }
}

/// <summary>One port rule; <see cref="Ports"/> is written as is (a port, a range, or a malformed value the parser will locate).</summary>
internal sealed record RuleDraft(string Protocol, string Ports, string Affinity, XObject From);

/// <summary>One checker: type-specific fields already formatted as YAML values.</summary>
internal sealed record CheckerDraft(string Name, string Type, IReadOnlyList<(string Key, string Value)> Fields, XObject From);
