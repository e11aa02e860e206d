namespace Farm.Core.Bundles;

/// <summary>The one rule for paths inside a bundle: what may be written under the module's folder (no zip slip).</summary>
public static class BundlePaths
{
    /// <summary>The manifest's name in a bundle and in an installed module folder.</summary>
    public const string Manifest = "bundle.json";

    /// <summary>Why <paramref name="path"/> may not be a file of a bundle, or null when it may.</summary>
    public static string? Problem(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            return "an entry has an empty name";
        }

        if (path.Contains('\\', StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal))
        {
            return $"'{path}' contains '\\' or ':' (a Windows path); bundles use '/' only";
        }

        if (path.StartsWith('/'))
        {
            return $"'{path}' is an absolute path: entries must be relative to the module's folder";
        }

        if (path.Any(char.IsControl))
        {
            return $"'{Printable(path)}' contains a control character";
        }

        foreach (string part in path.Split('/'))
        {
            if (part is "" or "." or "..")
            {
                return $"'{path}' has an empty, '.' or '..' component: entries must stay inside the module's folder";
            }
        }

        return null;
    }

    /// <summary>Control characters shown as '?' (entry names come from an untrusted file).</summary>
    public static string Printable(string text) => new([.. (text ?? "").Select(c => char.IsControl(c) ? '?' : c)]);
}
