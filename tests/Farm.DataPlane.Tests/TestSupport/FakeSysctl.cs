namespace Farm.DataPlane.Tests.TestSupport;

/// <summary>An in-memory <see cref="ISysctl"/>; unknown paths fail like /proc/sys does.</summary>
internal sealed class FakeSysctl : ISysctl
{
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    public string Read(string path) => Values.TryGetValue(path, out var v) ? v : throw new IOException($"No such sysctl {path}.");

    public void Write(string path, string value)
    {
        if (!Values.ContainsKey(path))
        {
            throw new IOException($"No such sysctl {path}.");
        }

        Values[path] = value;
    }
}
