namespace Farm.Core.Config;

/// <summary>
/// Bounds on what the parser accepts, so a hostile or broken file costs little time and memory and ends in a located
/// error instead of a crash. Far above any real configuration (a 64-node cluster file is about 5 KB and 2,000 nodes).
/// </summary>
public static class ConfigLimits
{
    /// <summary>Largest file in characters (1 MiB); readers should also refuse a larger file before reading it.</summary>
    public const int MaxFileLength = 1024 * 1024;

    /// <summary>Deepest nesting of mappings and lists (the deepest real setting is at level 5).</summary>
    public const int MaxDepth = 64;

    /// <summary>Most YAML nodes (scalars, lists, mappings) a file may hold, each alias counted as the whole node it repeats.</summary>
    public const int MaxNodes = 100_000;

    /// <summary>Most errors reported for one file; one more line says how many were left out.</summary>
    public const int MaxErrors = 100;

    /// <summary>Longest cluster key, inline or in its key file (characters).</summary>
    public const int MaxKeyLength = 4096;

    /// <summary>Largest key file in bytes: readers stop there, so <c>key_file: /dev/zero</c> cannot exhaust memory.</summary>
    public const int MaxKeyFileBytes = 64 * 1024;

    /// <summary>Most VIPs of one module.</summary>
    public const int MaxVips = 256;

    /// <summary>Most port rules of one module.</summary>
    public const int MaxRules = 1024;

    /// <summary>Most checkers of one module.</summary>
    public const int MaxCheckers = 64;
}
