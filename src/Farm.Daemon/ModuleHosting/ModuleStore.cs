using Farm.Core.Bundles;
using Farm.Native.Linux;

namespace Farm.Daemon.ModuleHosting;

/// <summary>
/// The installed module bundles of a node, on disk: <c>MODULES/NAME</c> is a symbolic link to
/// <c>MODULES/.versions/NAME/VERSION</c>, and <c>MODULES/.versions/NAME/previous</c> links to the version a rollback
/// returns to. A new version is unpacked beside the others under a temporary name, checked (hashes, owner and modes), and
/// renamed into place; only then the link is swapped with one rename(2), so farmd and a crash see the old version or the
/// new one, never a half-written folder. A folder copied by hand (no link) is listed but never replaced or removed.
/// </summary>
/// <remarks>Module names cannot start with '.', so <c>.versions</c> never collides with a module.</remarks>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class ModuleStore(string modulesDirectory, IFileInspector files)
{
    /// <summary>The folder holding every version of every bundle, under the modules folder.</summary>
    public const string VersionsFolder = ".versions";

    /// <summary>The link, in a module's versions folder, to the version a rollback returns to.</summary>
    public const string PreviousLink = "previous";

    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly Lock gate = new();

    /// <summary>The modules folder (farmd's <c>--modules</c>), absolute.</summary>
    public string Directory { get; } = Path.GetFullPath(modulesDirectory);

    /// <summary>The Farm release this farmd is (bundles name the releases they run on).</summary>
    public static Version Release { get; } = FarmVersionRange.ReleaseOf(typeof(ModuleStore).Assembly.GetName().Version ?? new Version(0, 0));

    /// <summary>The link farmd reads module <paramref name="name"/> through.</summary>
    public string LinkOf(string name) => Path.Combine(Directory, name);

    /// <summary>
    /// Installs <paramref name="bundle"/> (verified by <see cref="ModuleBundle.Read"/>) as the module's current version
    /// and keeps the one it replaces as the previous. Returns "installed" or "unchanged" (this very bundle is current).
    /// </summary>
    /// <exception cref="ModuleStoreException">Refused or failed; the module's current version is as before.</exception>
    public string Install(ModuleBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var manifest = bundle.Manifest;
        if (!manifest.Farm.Contains(Release))
        {
            throw new ModuleStoreException(
                $"bundle {manifest.Name} {manifest.Version} runs on Farm {manifest.Farm}, this node runs Farm {FarmVersionRange.Format(Release)}: "
                + "pack it again with a --farm range that includes this release, or upgrade Farm on this node");
        }

        lock (gate)
        {
            string name = manifest.Name;
            string link = LinkOf(name);
            string? current = CurrentVersion(name);
            RequireLinkOrNothing(link, current);
            string versions = EnsureVersionsFolder(name);
            string target = Path.Combine(versions, manifest.Version);
            if (System.IO.Directory.Exists(target))
            {
                string? installed = HashOf(target);
                if (installed != bundle.Hash)
                {
                    throw new ModuleStoreException(
                        $"{name} {manifest.Version} is already installed with other content (hash {Short(installed)}, this bundle {Short(bundle.Hash)}): "
                        + "give the new bundle a higher version (farmctl module pack --version)");
                }

                if (current == manifest.Version)
                {
                    return "unchanged";
                }
            }
            else
            {
                Unpack(bundle, versions, target);
            }

            Swap(name, manifest.Version, current);
            return "installed";
        }
    }

    /// <summary>Makes the previous version of <paramref name="name"/> current again (the current one becomes the previous); returns the version now current.</summary>
    /// <exception cref="ModuleStoreException">No such bundle module, or no previous version kept.</exception>
    public string Rollback(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (gate)
        {
            string? current = CurrentVersion(name) ?? throw NotABundle(name);
            string? previous = PreviousVersion(name);
            if (previous is null || !System.IO.Directory.Exists(Path.Combine(VersionsOf(name), previous)))
            {
                throw new ModuleStoreException($"{name} has no previous version to roll back to (only {current} is installed)");
            }

            Swap(name, previous, current);
            return previous;
        }
    }

    /// <summary>Removes bundle module <paramref name="name"/>: first its link (it is gone for farmd at once), then every version.</summary>
    /// <exception cref="ModuleStoreException">No such bundle module (a folder copied by hand is left to the admin).</exception>
    public void Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (gate)
        {
            _ = CurrentVersion(name) ?? throw NotABundle(name);
            File.Delete(LinkOf(name));
            string versions = VersionsOf(name);
            // Renamed first, then deleted: a crash in between leaves only a hidden folder, never a half-deleted version.
            string doomed = Path.Combine(Directory, VersionsFolder, $".removed-{name}-{Guid.NewGuid():N}");
            AtomicLink.Rename(versions, doomed);
            System.IO.Directory.Delete(doomed, recursive: true);
        }
    }

    /// <summary>The version module <paramref name="name"/>'s link points at; null when it is not a bundle module (missing, or a folder copied by hand).</summary>
    public string? CurrentVersion(string name) => LinkVersion(LinkOf(name), Path.Combine(VersionsFolder, name));

    /// <summary>The version a rollback of <paramref name="name"/> returns to, or null.</summary>
    public string? PreviousVersion(string name) => LinkVersion(Path.Combine(VersionsOf(name), PreviousLink), null);

    /// <summary>The installed folder of module <paramref name="name"/> at <paramref name="version"/>.</summary>
    public string FolderOf(string name, string version) => Path.Combine(VersionsOf(name), version);

    /// <summary>
    /// The module folders under the modules folder (bundles and folders copied by hand) with, for bundles, version,
    /// hash, previous version and what no longer matches the manifest (empty when intact).
    /// </summary>
    public IReadOnlyList<(string Name, string Folder, string? Version, string? Hash, string? Previous, IReadOnlyList<string> Problems)> List()
    {
        var list = new List<(string, string, string?, string?, string?, IReadOnlyList<string>)>();
        if (!System.IO.Directory.Exists(Directory))
        {
            return list;
        }

        foreach (string folder in System.IO.Directory.GetDirectories(Directory).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(folder);
            if (name.StartsWith('.') || !File.Exists(Path.Combine(folder, "farm.yaml")))
            {
                continue;
            }

            string? version = CurrentVersion(name);
            if (version is null)
            {
                list.Add((name, folder, null, null, null, []));
                continue;
            }

            string installed = FolderOf(name, version);
            list.Add((name, installed, version, HashOf(installed), PreviousVersion(name), InstalledBundle.Verify(installed)));
        }

        return list;
    }

    private string VersionsOf(string name) => Path.Combine(Directory, VersionsFolder, name);

    private static string Short(string? hash) => hash is null ? "none" : hash[..Math.Min(12, hash.Length)];

    private static ModuleStoreException NotABundle(string name) => new(
        $"{name} is not a module installed from a bundle on this node (no link {name} -> {VersionsFolder}/{name}/VERSION): "
        + "a folder copied by hand is removed by hand; see farmctl module list");

    private static string? HashOf(string folder)
    {
        string manifest = Path.Combine(folder, BundlePaths.Manifest);
        return File.Exists(manifest) ? BundleManifest.Sha256(File.ReadAllBytes(manifest)) : null;
    }

    /// <summary>The last component of <paramref name="link"/>'s target when it is a link into <paramref name="prefix"/> (or anywhere, if null).</summary>
    private static string? LinkVersion(string link, string? prefix)
    {
        var info = new FileInfo(link);
        if (info.LinkTarget is not { } target)
        {
            return null;
        }

        string? parent = Path.GetDirectoryName(target);
        return prefix is null || parent == prefix ? Path.GetFileName(target) : null;
    }

    private static void RequireLinkOrNothing(string link, string? current)
    {
        if (current is null && (File.Exists(link) || System.IO.Directory.Exists(link) || new FileInfo(link).LinkTarget is not null))
        {
            throw new ModuleStoreException(
                $"{link} exists and is not a bundle link (a folder copied by hand?): move it away (e.g. mv {link} /root/), then install again");
        }
    }

    private string EnsureVersionsFolder(string name)
    {
        string root = Path.Combine(Directory, VersionsFolder);
        foreach (string folder in new[] { root, VersionsOf(name) })
        {
            if (!System.IO.Directory.Exists(folder))
            {
                System.IO.Directory.CreateDirectory(folder, FolderMode);
            }
        }

        return VersionsOf(name);
    }

    /// <summary>Writes the bundle's files under a temporary name in <paramref name="versions"/>, checks them and renames the folder to <paramref name="target"/>.</summary>
    private void Unpack(ModuleBundle bundle, string versions, string target)
    {
        string staging = Path.Combine(versions, $".staging-{Guid.NewGuid():N}");
        try
        {
            System.IO.Directory.CreateDirectory(staging, FolderMode);
            Write(Path.Combine(staging, BundlePaths.Manifest), bundle.ManifestBytes, 0b110_100_100);
            foreach (var file in bundle.Files)
            {
                string path = Path.Combine(staging, file.Path);
                // BundlePaths refused '..' and absolute names; this checks the result anyway (defence in depth).
                if (!Path.GetFullPath(path).StartsWith(staging + "/", StringComparison.Ordinal))
                {
                    throw new ModuleStoreException($"refused entry '{BundlePaths.Printable(file.Path)}': it would land outside the module's folder");
                }

                string parent = Path.GetDirectoryName(path)!;
                if (!System.IO.Directory.Exists(parent))
                {
                    System.IO.Directory.CreateDirectory(parent, FolderMode);
                }

                Write(path, file.Content.Span, file.Mode);
            }

            var problems = InstalledBundle.Verify(staging).ToList();
            problems.AddRange(ModuleTrust.Check(Directory, staging, bundle.Module, files));
            if (problems.Count > 0)
            {
                throw new ModuleStoreException($"the unpacked bundle does not check out: {string.Join("; ", problems)}");
            }

            AtomicLink.Rename(staging, target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModuleStoreException($"cannot unpack into {versions}: {ex.Message} (check free space and that farmd runs as root)", ex);
        }
        finally
        {
            if (System.IO.Directory.Exists(staging))
            {
                System.IO.Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static void Write(string path, ReadOnlySpan<byte> content, int mode)
    {
        using (var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = (UnixFileMode)mode }))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        // The umask may have taken bits away (a script's execute bits): set the manifest's mode exactly.
        File.SetUnixFileMode(path, (UnixFileMode)mode);
    }

    /// <summary>Points the module's link at <paramref name="version"/> and its previous link at <paramref name="current"/>; deletes versions that are neither.</summary>
    private void Swap(string name, string version, string? current)
    {
        try
        {
            if (current is not null && current != version)
            {
                AtomicLink.Replace(Path.Combine(VersionsOf(name), PreviousLink), current);
            }

            AtomicLink.Replace(LinkOf(name), Path.Combine(VersionsFolder, name, version));
        }
        catch (IOException ex)
        {
            throw new ModuleStoreException($"cannot switch {name} to {version}: {ex.Message}", ex);
        }

        string? previous = PreviousVersion(name);
        foreach (string folder in System.IO.Directory.GetDirectories(VersionsOf(name)))
        {
            string v = Path.GetFileName(folder);
            if (v != version && v != previous && v != PreviousLink && !v.StartsWith('.'))
            {
                System.IO.Directory.Delete(folder, recursive: true);
            }
        }
    }
}
