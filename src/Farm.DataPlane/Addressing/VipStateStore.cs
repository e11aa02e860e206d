using System.Text.Json;
using Farm.Core.Security;
using Farm.Native.Linux;

namespace Farm.DataPlane.Addressing;

/// <summary>
/// Keeps <see cref="VipState"/> per module as <c>vip-MODULE.json</c> in a state folder (farmd: /var/lib/farm), private
/// to farmd: the folder is created 0700, files are written 0600 through a uniquely named temporary file, and a
/// symbolic link is never followed (the next start undoes what these files say, as root).
/// </summary>
internal sealed class VipStateStore
{
    /// <summary>Largest state file read: a module's record is a few hundred bytes.</summary>
    public const int MaxFileBytes = 1024 * 1024;

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };
    private readonly string directory;
    private readonly IFileInspector files;

    /// <summary>Creates a store in <paramref name="directory"/> (created when missing).</summary>
    public VipStateStore(string directory, IFileInspector? files = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        this.directory = directory;
        this.files = files ?? StatxFileInspector.Instance;
    }

    /// <summary>The stored state of <paramref name="module"/>, or null.</summary>
    /// <exception cref="IOException">The file is a symbolic link, not a regular file, or too large.</exception>
    public VipState? Load(string module)
    {
        byte[]? content = PrivateFiles.ReadNoFollow(PathOf(module), MaxFileBytes, files);
        return content is null ? null : JsonSerializer.Deserialize<VipState>(content, Options);
    }

    /// <summary>Writes the state atomically (temporary file, fsync, rename): a crash leaves the old or the new file, never half of one.</summary>
    /// <exception cref="IOException">The folder cannot be created, is not farmd's own, or the write failed.</exception>
    public void Save(VipState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (PrivateFiles.EnsurePrivateDirectory(directory, files) is { } problem)
        {
            throw new IOException($"the state folder is not safe to use: {problem}");
        }

        PrivateFiles.WriteAtomic(PathOf(state.Module), JsonSerializer.SerializeToUtf8Bytes(state, Options));
    }

    /// <summary>Deletes the state of <paramref name="module"/> (a symbolic link there is deleted, not followed).</summary>
    public void Delete(string module) => File.Delete(PathOf(module));

    private string PathOf(string module) => Path.Combine(directory, $"vip-{module}.json");
}
