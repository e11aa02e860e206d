namespace Farm.Daemon.Tests.TestSupport;

/// <summary>
/// The socket a test holds in place of systemd's <c>NOTIFY_SOCKET</c> (a Unix datagram socket in <c>notify.sock</c> of a
/// folder): farmd's sd_notify messages (READY=1, STATUS=..., WATCHDOG=1, STOPPING=1) arrive here.
/// </summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    /// <summary>Binds the socket at <c>notify.sock</c> in <paramref name="directory"/>.</summary>
    public NotifySocket(string directory)
    {
        Path = System.IO.Path.Combine(directory, "notify.sock");
        socket.Bind(new UnixDomainSocketEndPoint(Path));
    }

    /// <summary>The socket's path, the value of <c>NOTIFY_SOCKET</c>.</summary>
    public string Path { get; }

    /// <summary>The next lifecycle message (READY=1, STOPPING=1, ...): status lines and timeouts in between are skipped; 15 s at most for each message.</summary>
    public async Task<string> NextLifecycleAsync()
    {
        byte[] buffer = new byte[4096];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None).WithTimeout(TimeSpan.FromSeconds(15));
            string state = Encoding.UTF8.GetString(buffer, 0, n);
            if (!state.StartsWith("STATUS=", StringComparison.Ordinal) && !state.StartsWith("EXTEND_TIMEOUT_USEC=", StringComparison.Ordinal))
            {
                return state;
            }
        }
    }

    /// <summary>Every message until one matches <paramref name="last"/> (included); fails after <paramref name="timeout"/>.</summary>
    public async Task<List<string>> UntilAsync(Func<string, bool> last, TimeSpan timeout)
    {
        var (seen, matched) = await ReceiveAsync(last, timeout);
        return matched ? seen : throw new AssertFailedException($"Not received within {timeout}; got: {string.Join(" | ", seen)}");
    }

    /// <summary>Every message received during <paramref name="window"/>.</summary>
    public async Task<List<string>> ForAsync(TimeSpan window) => (await ReceiveAsync(_ => false, window)).Seen;

    public void Dispose() => socket.Dispose();

    /// <summary>Every message until one matches <paramref name="last"/> (included, and then Matched) or <paramref name="time"/> is up.</summary>
    private async Task<(List<string> Seen, bool Matched)> ReceiveAsync(Func<string, bool> last, TimeSpan time)
    {
        var seen = new List<string>();
        byte[] buffer = new byte[4096];
        using var cancel = new CancellationTokenSource(time);
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
                seen.Add(Encoding.UTF8.GetString(buffer, 0, n));
                if (last(seen[^1]))
                {
                    return (seen, true);
                }
            }
        }
        catch (OperationCanceledException)
        {
            return (seen, false);
        }
    }
}
