using System.Globalization;
using System.Net;

namespace Farm.Core.Config;

/// <summary>
/// Reads the settings of one YAML mapping: reports duplicate and unknown keys up front, then hands out
/// typed values, each read reporting its own located error and falling back to the default so
/// binding goes on.
/// </summary>
internal sealed class MappingReader
{
    private readonly ConfigDiagnostics diagnostics;
    private readonly Dictionary<string, KeyValuePair<YamlScalarNode, YamlNodeBase>> entries = new(StringComparer.Ordinal);

    /// <param name="diagnostics">Where errors go.</param>
    /// <param name="map">The mapping to read.</param>
    /// <param name="where">How messages name this mapping, e.g. <c>node 'b'</c>.</param>
    /// <param name="validKeys">Every key this mapping accepts, in documentation order.</param>
    /// <param name="misplaced">Optional: for a key that is valid elsewhere but not here, the error message and hint.</param>
    public MappingReader(
        ConfigDiagnostics diagnostics,
        YamlMapNode map,
        string where,
        IReadOnlyList<string> validKeys,
        Func<string, (string Message, string Hint)?>? misplaced = null)
    {
        this.diagnostics = diagnostics;
        Map = map;
        Where = where;
        foreach (var entry in map.Entries)
        {
            string key = entry.Key.Value;
            if (!validKeys.Contains(key, StringComparer.Ordinal))
            {
                if (misplaced?.Invoke(key) is { } wrong)
                {
                    diagnostics.Add(entry.Key, wrong.Message, wrong.Hint);
                }
                else
                {
                    string? nearest = KeySuggester.Nearest(key, validKeys);
                    diagnostics.Add(
                        entry.Key,
                        $"unknown key '{key}' in {where}",
                        nearest is not null ? $"did you mean '{nearest}'?" : "valid keys are " + string.Join(", ", validKeys));
                }

                continue;
            }

            if (entries.TryGetValue(key, out var first))
            {
                diagnostics.Add(entry.Key, $"duplicate key '{key}' in {where} (first set at line {first.Key.Line})", "keep only one of them");
                continue;
            }

            entries.Add(key, entry);
        }
    }

    public YamlMapNode Map { get; }

    public string Where { get; }

    public bool Has(string key) => entries.ContainsKey(key);

    /// <summary>The key node, for errors about a setting as a whole.</summary>
    public YamlNodeBase KeyNode(string key) => entries.TryGetValue(key, out var e) ? e.Key : Map;

    /// <summary>The value node of a key, or null when absent.</summary>
    public YamlNodeBase? Node(string key) => entries.TryGetValue(key, out var e) ? e.Value : null;

    /// <summary>Reports a required key that is absent, at the start of the mapping.</summary>
    public void Missing(string key, string example) =>
        diagnostics.Add(Map, $"missing required key '{key}' in {Where}", $"add '{key}: {example}'");

    /// <summary>The value node of a key, or null when absent (reported as missing when <paramref name="required"/>).</summary>
    private YamlNodeBase? Present(string key, bool required, string example)
    {
        var node = Node(key);
        if (node is null && required)
        {
            Missing(key, example);
        }

        return node;
    }

    /// <summary>A scalar value, or null when absent (reported if required), null, or not a scalar (reported).</summary>
    public YamlScalarNode? Scalar(string key, bool required = false, string example = "...")
    {
        if (Present(key, required, example) is not { } node)
        {
            return null;
        }

        if (node is not YamlScalarNode scalar)
        {
            diagnostics.Add(node, $"'{key}' in {Where} must be a single value, not {node.Describe()}", $"write '{key}: {example}'");
            return null;
        }

        if (scalar.IsNull)
        {
            diagnostics.Add(KeyNode(key), $"'{key}' in {Where} has no value", required ? $"write '{key}: {example}'" : $"give it a value (e.g. '{key}: {example}') or remove the key to use the default");
            return null;
        }

        return scalar;
    }

    public string? String(string key, bool required = false, string example = "...") => Scalar(key, required, example)?.Value;

    public int Int(string key, int defaultValue, int min, int max)
    {
        var scalar = Scalar(key, example: defaultValue.ToString(CultureInfo.InvariantCulture));
        if (scalar is null)
        {
            return defaultValue;
        }

        if (scalar.IsPlain && IsInteger(scalar.Value) && !long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            // Beyond long: still a number, so say it is out of range rather than "not an integer".
            diagnostics.Add(scalar, $"'{key}' in {Where} is {scalar.Value}, out of range", $"use a value from {min} to {max}");
            return defaultValue;
        }

        if (!scalar.IsPlain || !long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            bool quotedNumber = !scalar.IsPlain && long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
            diagnostics.Add(scalar, $"'{key}' in {Where} must be an integer, found {scalar.Describe()}", quotedNumber ? "remove the quotes" : $"write a whole number from {min} to {max}");
            return defaultValue;
        }

        if (value < min || value > max)
        {
            diagnostics.Add(scalar, $"'{key}' in {Where} is {value}, out of range", $"use a value from {min} to {max}");
            return defaultValue;
        }

        return (int)value;
    }

    /// <summary>True for an optional sign followed by decimal digits only, however many.</summary>
    public static bool IsInteger(string text)
    {
        var digits = text.AsSpan(text.StartsWith('-') || text.StartsWith('+') ? 1 : 0);
        return !digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9');
    }

    public bool Bool(string key, bool defaultValue)
    {
        var scalar = Scalar(key, example: defaultValue ? "true" : "false");
        if (scalar is null)
        {
            return defaultValue;
        }

        if (scalar.IsPlain && scalar.Value is "true" or "false")
        {
            return scalar.Value == "true";
        }

        diagnostics.Add(scalar, $"'{key}' in {Where} must be true or false, found {scalar.Describe()}", "write true or false (YAML 1.2: yes/no/on/off are strings)");
        return defaultValue;
    }

    public TimeSpan Duration(string key, TimeSpan defaultValue, TimeSpan min, TimeSpan max)
    {
        var scalar = Scalar(key, example: ConfigDuration.Format(defaultValue));
        if (scalar is null)
        {
            return defaultValue;
        }

        if (!ConfigDuration.TryParse(scalar.Value, out var value, out string? error, out bool tooLarge))
        {
            diagnostics.Add(
                scalar,
                tooLarge ? $"'{key}' in {Where} is {scalar.Value}, out of range" : $"{error} ('{key}' in {Where})",
                tooLarge ? RangeHint() : ConfigDuration.FormatHint);
            return defaultValue;
        }

        if (value < min || value > max)
        {
            diagnostics.Add(scalar, $"'{key}' in {Where} is {scalar.Value}, out of range", RangeHint());
            return defaultValue;
        }

        return value;

        string RangeHint() => $"use a duration from {ConfigDuration.Format(min)} to {ConfigDuration.Format(max)}";
    }

    /// <summary>One of a fixed set of lower-case names.</summary>
    public T Choice<T>(string key, T defaultValue, IReadOnlyList<(string Name, T Value)> choices)
    {
        var scalar = Scalar(key, example: choices.First(c => EqualityComparer<T>.Default.Equals(c.Value, defaultValue)).Name);
        if (scalar is null)
        {
            return defaultValue;
        }

        foreach (var (name, value) in choices)
        {
            if (string.Equals(name, scalar.Value, StringComparison.Ordinal))
            {
                return value;
            }
        }

        string? nearest = KeySuggester.Nearest(scalar.Value, choices.Select(c => c.Name));
        string allowed = string.Join(", ", choices.Select(c => c.Name));
        diagnostics.Add(
            scalar,
            $"'{key}' in {Where} is '{scalar.Value}', which is not one of {allowed}",
            nearest is not null ? $"did you mean '{nearest}'?" : $"use one of {allowed}");
        return defaultValue;
    }

    public IPAddress? Address(string key, bool required, string example)
    {
        var scalar = Scalar(key, required, example);
        return scalar is null ? null : ConfigValues.Address(diagnostics, scalar, $"'{key}' in {Where}", example);
    }

    public YamlMapNode? Mapping(string key)
    {
        var node = Node(key);
        if (node is null || node is YamlScalarNode { IsNull: true })
        {
            return null;
        }

        if (node is YamlMapNode map)
        {
            return map;
        }

        diagnostics.Add(node, $"'{key}' in {Where} must be a mapping of settings, not {node.Describe()}", $"write the settings of '{key}' indented on the lines below it");
        return null;
    }

    public YamlListNode? List(string key, bool required = false, string example = "[...]")
    {
        if (Present(key, required, example) is not { } node)
        {
            return null;
        }

        if (node is YamlListNode list)
        {
            return list;
        }

        diagnostics.Add(node, $"'{key}' in {Where} must be a list, not {node.Describe()}", $"write the items as '- item' lines below '{key}:' or as [a, b]");
        return null;
    }
}
