using System.Collections.Frozen;

namespace Farm.WebConsole;

/// <summary>The console's files, embedded in this assembly and read once.</summary>
internal static class ConsoleAssets
{
    private static readonly FrozenDictionary<string, (byte[] Content, string ContentType)> Files = new[]
    {
        ("index.html", "text/html; charset=utf-8"),
        ("login.html", "text/html; charset=utf-8"),
        ("console.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
    }.ToFrozenDictionary(f => f.Item1, f => (Read(f.Item1), f.Item2), StringComparer.Ordinal);

    /// <summary>The file <paramref name="name"/> and its content type; null when the console has no such file.</summary>
    public static (byte[] Content, string ContentType)? Find(string name) => Files.TryGetValue(name, out var file) ? file : null;

    private static byte[] Read(string name)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("Farm.WebConsole.Assets." + name)
            ?? throw new InvalidOperationException($"The console asset {name} is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
