using System.IO.Compression;
using System.Text;
using Farm.Core.Config;

namespace Farm.Core.Bundles;

/// <summary>
/// A module bundle: one zip with <c>bundle.json</c> (<see cref="BundleManifest"/>) and the module's folder (farm.yaml,
/// bin/, checkers). <see cref="Write"/> packs, <see cref="Read"/> opens and verifies one from untrusted bytes: entry
/// names (no absolute path, no '..', no link), sizes, the manifest's hash of every file, and farm.yaml itself.
/// </summary>
public sealed class ModuleBundle
{
    /// <summary>Most entries in a bundle: a module ships a handful of files.</summary>
    public const int MaxEntries = 1000;

    /// <summary>Most bytes of all files together, unpacked (a zip bomb stops here).</summary>
    public const long MaxUnpackedBytes = 64L << 20;

    /// <summary>The most permission bits a file keeps: group and others never write, no setuid, setgid or sticky bit.</summary>
    public const int ModeMask = 0b111_101_101;

    // Zip's fixed date for every entry: the same folder always packs to the same bytes.
    private static readonly DateTimeOffset EntryTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const int UnixTypeMask = 0xF000;
    private const int UnixRegular = 0x8000;
    private const int UnixDirectory = 0x4000;
    private const int UnixLink = 0xA000;

    private ModuleBundle(BundleManifest manifest, byte[] manifestBytes, IReadOnlyList<BundleFile> files, ModuleConfig module)
    {
        Manifest = manifest;
        ManifestBytes = manifestBytes;
        Files = files;
        Module = module;
        Hash = BundleManifest.Sha256(manifestBytes);
    }

    /// <summary>The manifest.</summary>
    public BundleManifest Manifest { get; }

    /// <summary>The manifest's bytes as packed (they are installed as is, so the hash stays the same).</summary>
    public byte[] ManifestBytes { get; }

    /// <summary>The module's files, the manifest excluded, with the manifest's modes.</summary>
    public IReadOnlyList<BundleFile> Files { get; }

    /// <summary>The module's farm.yaml, parsed and validated.</summary>
    public ModuleConfig Module { get; }

    /// <summary>The bundle's hash: SHA-256 of its manifest, which holds the SHA-256 of every file.</summary>
    public string Hash { get; }

    /// <summary>Packs <paramref name="files"/> with their manifest into <paramref name="output"/> as a zip (modes masked by <see cref="ModeMask"/>).</summary>
    public static BundleManifest Write(Stream output, string name, string version, FarmVersionRange farm, IReadOnlyList<BundleFile> files)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(files);
        var masked = files.Select(f => f with { Mode = f.Mode & ModeMask }).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        var manifest = BundleManifest.Describe(name, version, farm, masked);
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        Add(zip, BundlePaths.Manifest, manifest.ToJson(), 0b110_100_100);
        foreach (var file in masked)
        {
            Add(zip, file.Path, file.Content.Span, file.Mode);
        }

        return manifest;
    }

    /// <summary>Opens and verifies a bundle from <paramref name="zip"/>; the bundle, or null and every problem found.</summary>
    public static (ModuleBundle? Bundle, IReadOnlyList<string> Problems) Read(Stream zip, string where)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var problems = new List<string>();
        var contents = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        byte[]? manifestBytes = null;
        try
        {
            using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
            if (archive.Entries.Count > MaxEntries)
            {
                return (null, [$"{where}: {archive.Entries.Count} entries, more than {MaxEntries}: this is not a module bundle"]);
            }

            long total = 0;
            foreach (var entry in archive.Entries)
            {
                string name = entry.FullName;
                int type = (entry.ExternalAttributes >> 16) & UnixTypeMask;
                bool isDirectory = name.EndsWith('/') || type == UnixDirectory;
                string path = isDirectory ? name.TrimEnd('/') : name;
                if (BundlePaths.Problem(path) is { } problem)
                {
                    problems.Add($"{where}: refused entry: {problem}");
                    continue;
                }

                if (type == UnixLink)
                {
                    problems.Add($"{where}: refused entry: '{BundlePaths.Printable(path)}' is a symbolic link (a link could point outside the module's folder)");
                    continue;
                }

                if (isDirectory)
                {
                    continue;
                }

                if (type is not (0 or UnixRegular))
                {
                    problems.Add($"{where}: refused entry: '{BundlePaths.Printable(path)}' is not a regular file");
                    continue;
                }

                total += entry.Length;
                if (total > MaxUnpackedBytes)
                {
                    return (null, [.. problems, $"{where}: more than {MaxUnpackedBytes >> 20} MiB unpacked: this is not a module bundle"]);
                }

                var bytes = ReadEntry(entry);
                if (!contents.TryAdd(path, bytes))
                {
                    problems.Add($"{where}: refused entry: '{BundlePaths.Printable(path)}' appears twice");
                }
            }
        }
        catch (InvalidDataException ex)
        {
            return (null, [$"{where}: not a zip file, or a damaged one: {ex.Message}"]);
        }

        if (contents.Remove(BundlePaths.Manifest, out var manifestContent))
        {
            manifestBytes = manifestContent.ToArray();
        }
        else
        {
            problems.Add($"{where}: no {BundlePaths.Manifest}: pack the module with 'farmctl module pack DIR'");
        }

        var manifest = manifestBytes is null ? null : BundleManifest.Parse(manifestBytes, $"{where}: {BundlePaths.Manifest}", problems);
        if (manifest is not null)
        {
            problems.AddRange(manifest.Verify(contents).Select(p => $"{where}: {p}"));
        }

        ModuleConfig? module = null;
        if (!contents.TryGetValue("farm.yaml", out var yaml))
        {
            problems.Add($"{where}: no farm.yaml at the top of the bundle");
        }
        else
        {
            var parsed = ConfigParser.ParseModule(Encoding.UTF8.GetString(yaml.Span), $"{where}:farm.yaml");
            problems.AddRange(parsed.Errors.Select(e => e.ToString()));
            module = parsed.Value;
            if (module is not null && manifest is not null && module.Name != manifest.Name)
            {
                problems.Add($"{where}: the manifest names module '{manifest.Name}' but farm.yaml names '{module.Name}': pack it again");
            }
        }

        if (problems.Count > 0 || manifest is null || module is null)
        {
            return (null, problems);
        }

        var modes = manifest.Files.ToDictionary(f => f.Path, f => f.Mode & ModeMask, StringComparer.Ordinal);
        var files = contents.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new BundleFile(c.Key, c.Value, modes[c.Key])).ToList();
        return (new ModuleBundle(manifest, manifestBytes!, files, module), []);
    }

    private static ReadOnlyMemory<byte> ReadEntry(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        // The declared length bounds what is read: a lying header cannot make it unpack more.
        var buffer = new byte[81920];
        long left = entry.Length;
        int read;
        while (left > 0 && (read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left))) > 0)
        {
            copy.Write(buffer, 0, read);
            left -= read;
        }

        return copy.ToArray();
    }

    private static void Add(ZipArchive zip, string path, ReadOnlySpan<byte> content, int mode)
    {
        var entry = zip.CreateEntry(path, CompressionLevel.Optimal);
        entry.LastWriteTime = EntryTime;
        entry.ExternalAttributes = (UnixRegular | mode) << 16;
        using var stream = entry.Open();
        stream.Write(content);
    }
}
