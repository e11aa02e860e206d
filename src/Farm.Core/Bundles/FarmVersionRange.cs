namespace Farm.Core.Bundles;

/// <summary>
/// The Farm releases a bundle runs on, as constraints joined by spaces, each an operator (<c>&gt;=</c>, <c>&gt;</c>,
/// <c>&lt;=</c>, <c>&lt;</c>, <c>=</c>) and a version of 2 to 4 numbers, e.g. <c>&gt;=0.1 &lt;1.0</c>; all must hold. Empty: any release.
/// </summary>
public sealed record FarmVersionRange(IReadOnlyList<(string Operator, Version Version)> Constraints)
{
    private static readonly string[] Operators = [">=", "<=", ">", "<", "="];

    /// <summary>The text form, as written in a manifest.</summary>
    public override string ToString() => string.Join(' ', Constraints.Select(c => c.Operator + c.Version.ToString()));

    /// <summary>The range of releases with the same major and minor number as <paramref name="current"/> or newer, below the next major.</summary>
    public static FarmVersionRange From(Version current)
    {
        ArgumentNullException.ThrowIfNull(current);
        return new FarmVersionRange([(">=", new Version(current.Major, Math.Max(current.Minor, 0))), ("<", new Version(current.Major + 1, 0))]);
    }

    /// <summary>Parses <paramref name="text"/>; null and a reason when it is not a range.</summary>
    public static FarmVersionRange? Parse(string? text, out string? problem)
    {
        problem = null;
        var constraints = new List<(string, Version)>();
        foreach (string part in (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string? op = Operators.FirstOrDefault(o => part.StartsWith(o, StringComparison.Ordinal));
            if (op is null || !Version.TryParse(part[op.Length..], out var version) || part[op.Length..].Any(c => c is not (>= '0' and <= '9' or '.')))
            {
                problem = $"'{part}' is not a constraint such as >=0.1 or <1.0";
                return null;
            }

            constraints.Add((op, version));
        }

        return new FarmVersionRange(constraints);
    }

    /// <summary>True when <paramref name="version"/> meets every constraint (compared on the numbers given, missing ones as 0).</summary>
    public bool Contains(Version version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var v = Normalize(version);
        return Constraints.All(c =>
        {
            int cmp = v.CompareTo(Normalize(c.Version));
            return c.Operator switch
            {
                ">=" => cmp >= 0,
                ">" => cmp > 0,
                "<=" => cmp <= 0,
                "<" => cmp < 0,
                _ => cmp == 0,
            };
        });
    }

    private static Version Normalize(Version v) => new(v.Major, Math.Max(v.Minor, 0), Math.Max(v.Build, 0), Math.Max(v.Revision, 0));

    /// <summary>The version of a Farm assembly as a release number (major.minor.build).</summary>
    public static Version ReleaseOf(Version assemblyVersion)
    {
        ArgumentNullException.ThrowIfNull(assemblyVersion);
        return new Version(assemblyVersion.Major, Math.Max(assemblyVersion.Minor, 0), Math.Max(assemblyVersion.Build, 0));
    }

    /// <summary>For messages: the version as people write it.</summary>
    public static string Format(Version version) => version?.ToString(3) ?? throw new ArgumentNullException(nameof(version));
}
