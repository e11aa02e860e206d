using System.Text.Json;

namespace Farm.DataPlane.Addressing;

/// <summary>Keeps <see cref="VipState"/> per module as <c>vip-MODULE.json</c> in a state folder (farmd: /var/lib/farm).</summary>
internal sealed class VipStateStore
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };
    private readonly string directory;

    /// <summary>Creates a store in <paramref name="directory"/> (created when missing).</summary>
    public VipStateStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        this.directory = directory;
    }

    /// <summary>The stored state of <paramref name="module"/>, or null.</summary>
    public VipState? Load(string module)
    {
        string path = PathOf(module);
        return File.Exists(path) ? JsonSerializer.Deserialize<VipState>(File.ReadAllText(path), Options) : null;
    }

    /// <summary>Writes the state atomically (temporary file, fsync, rename): a crash leaves the old or the new file, never half of one.</summary>
    public void Save(VipState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Directory.CreateDirectory(directory);
        string path = PathOf(state.Module);
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, state, Options);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Deletes the state of <paramref name="module"/>.</summary>
    public void Delete(string module) => File.Delete(PathOf(module));

    private string PathOf(string module) => Path.Combine(directory, $"vip-{module}.json");
}
