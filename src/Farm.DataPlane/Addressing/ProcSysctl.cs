namespace Farm.DataPlane.Addressing;

/// <summary>
/// <see cref="ISysctl"/> on /proc/sys. Network parameters resolve in the network namespace of the calling
/// <em>thread</em>, so a thread that entered a test namespace reads and writes that namespace's values.
/// </summary>
internal sealed class ProcSysctl : ISysctl
{
    private readonly string root;

    /// <summary>Creates an accessor rooted at <paramref name="root"/> (default /proc/sys).</summary>
    public ProcSysctl(string root = "/proc/sys") => this.root = root;

    /// <inheritdoc />
    public string Read(string path) => File.ReadAllText(Resolve(path)).Trim();

    /// <inheritdoc />
    public void Write(string path, string value) => File.WriteAllText(Resolve(path), value);

    private string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.Contains("..", StringComparison.Ordinal) || path.StartsWith('/'))
        {
            throw new ArgumentException($"'{path}' is not a relative sysctl path.", nameof(path));
        }

        return Path.Combine(root, path);
    }
}
