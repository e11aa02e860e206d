using System.IO.Compression;
using Farm.Core.Bundles;

namespace Farm.Testing.Bundles;

/// <summary>Bundles for tests: a module folder packed as farmctl packs it, and raw zips with entries farmctl never writes (for the refusals).</summary>
public static class TestBundles
{
    /// <summary>Every Farm release.</summary>
    public static FarmVersionRange AnyRelease { get; } = FarmVersionRange.Parse(">=0.0", out _)!;

    /// <summary>Packs <paramref name="folder"/> (regular files, their modes) into bundle bytes.</summary>
    public static byte[] Pack(string folder, string version, FarmVersionRange? farm = null)
    {
        var files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => new BundleFile(Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllBytes(f), OperatingSystem.IsWindows() ? 0b111_101_101 : (int)File.GetUnixFileMode(f)))
            .Where(f => f.Path != BundlePaths.Manifest)
            .ToList();
        string name = Core.Config.ConfigParser.ParseModule(File.ReadAllText(Path.Combine(folder, "farm.yaml")), "farm.yaml").Value?.Name
            ?? throw new InvalidOperationException($"{folder}/farm.yaml is not a valid module file");
        using var output = new MemoryStream();
        ModuleBundle.Write(output, name, version, farm ?? AnyRelease, files);
        return output.ToArray();
    }

    /// <summary>The entries of <paramref name="bundle"/> as (name, bytes, unix type and mode), to alter and zip again with <see cref="Zip"/>.</summary>
    public static List<(string Name, byte[] Content, int UnixMode)> Entries(byte[] bundle)
    {
        using var archive = new ZipArchive(new MemoryStream(bundle), ZipArchiveMode.Read);
        return [.. archive.Entries.Select(e =>
        {
            using var s = e.Open();
            using var copy = new MemoryStream();
            s.CopyTo(copy);
            return (e.FullName, copy.ToArray(), e.ExternalAttributes >> 16);
        })];
    }

    /// <summary>A zip of exactly these entries (names unchecked; <c>UnixMode</c> holds the file type bits too, e.g. 0xA1FF for a link).</summary>
    public static byte[] Zip(IEnumerable<(string Name, byte[] Content, int UnixMode)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content, mode) in entries)
            {
                var entry = zip.CreateEntry(name);
                entry.ExternalAttributes = mode << 16;
                using var s = entry.Open();
                s.Write(content);
            }
        }

        return output.ToArray();
    }
}
