namespace Farm.Bench.Failover;

/// <summary>
/// The TCP listener counters of a namespace's kernel (<c>/proc/net/netstat</c>, TcpExt): SYNs and handshakes dropped
/// because an app's accept queue was full (ListenOverflows) and all drops at a listener (ListenDrops). The kernel drops
/// them silently: the client sees a timeout, as if the node had not answered.
/// </summary>
[SupportedOSPlatform("linux")]
internal readonly record struct ListenCounters(long Overflows, long Drops)
{
    public static ListenCounters operator -(ListenCounters a, ListenCounters b) => new(a.Overflows - b.Overflows, a.Drops - b.Drops);

    /// <summary>Reads the counters of <paramref name="ns"/> (from a thread inside it: /proc/thread-self/net is the thread's namespace).</summary>
    public static Task<ListenCounters> ReadAsync(NetworkNamespace ns) => ns.RunAsync(() =>
    {
        string[] lines = File.ReadAllLines("/proc/thread-self/net/netstat");
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            if (!lines[i].StartsWith("TcpExt:", StringComparison.Ordinal) || !lines[i + 1].StartsWith("TcpExt:", StringComparison.Ordinal))
            {
                continue;
            }

            string[] names = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] values = lines[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long Value(string name) => Array.IndexOf(names, name) is var k and > 0 && k < values.Length ? long.Parse(values[k], CultureInfo.InvariantCulture) : -1;
            return new ListenCounters(Value("ListenOverflows"), Value("ListenDrops"));
        }

        return new ListenCounters(-1, -1);
    });
}
