using Farm.Core.Security;

namespace Farm.Testing.Files;

/// <summary>
/// An <see cref="IFileInspector"/> over a table of paths: tests state owners and modes that a test process (root, or
/// not) could not create for real. Paths not in the table do not exist, unless <see cref="Fallback"/> answers them.
/// </summary>
public sealed class FakeFileInspector : IFileInspector
{
    private readonly Dictionary<string, FileFacts> files = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public uint EffectiveUid { get; set; }

    /// <summary>Answers paths the table lacks (e.g. the real inspector for files a test wrote); null: they do not exist.</summary>
    public IFileInspector? Fallback { get; set; }

    /// <summary>Records <paramref name="path"/> as a file of <paramref name="kind"/> owned by <paramref name="uid"/> with <paramref name="mode"/>.</summary>
    public FakeFileInspector Add(string path, UnixFileMode mode, uint uid = 0, FileKind kind = FileKind.Regular)
    {
        files[path] = new FileFacts(path, uid, 0, mode, kind);
        return this;
    }

    /// <inheritdoc />
    public FileFacts? Inspect(string path, bool followLinks = true) =>
        files.TryGetValue(path, out var facts) ? facts : Fallback?.Inspect(path, followLinks);
}
