namespace Farm.Core.Config;

/// <summary>Names as the configuration files accept them (cluster, node, LAN, module, checker): see docs/configuration.md, "Names".</summary>
public static class ConfigNames
{
    /// <summary>True for a valid name: 1 to 63 lower-case letters, digits and inner '-'.</summary>
    public static bool IsValid(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ConfigValues.IsValidName(name);
    }

    /// <summary>
    /// The nearest valid name: lower case, every other character turned into '-', runs of '-' merged, cut to 63
    /// characters; "demo" when nothing is left.
    /// </summary>
    public static string Suggest(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var cleaned = new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        while (cleaned.Contains("--", StringComparison.Ordinal))
        {
            cleaned = cleaned.Replace("--", "-", StringComparison.Ordinal);
        }

        cleaned = cleaned.Length > ConfigValues.MaxNameLength ? cleaned[..ConfigValues.MaxNameLength].TrimEnd('-') : cleaned;
        return cleaned.Length == 0 ? "demo" : cleaned;
    }
}
