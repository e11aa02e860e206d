namespace Farm.EndToEnd.Tests.Modules;

/// <summary>HTTP clients in a client namespace asking demo-web's <c>GET /node</c> (which node served them) through a VIP.</summary>
internal static class HttpProbe
{
    /// <summary>One request per source, all in parallel; the answering node's name per source, or null when none came in time.</summary>
    public static async Task<string?[]> AskAsync(NetworkNamespace client, IReadOnlyList<IPAddress> sources, IPAddress vip, int port, TimeSpan timeout)
    {
        // Sockets are born in the client namespace; connecting and reading may then happen on any thread.
        var sockets = await client.RunAsync(() => sources.Select(Bind).ToArray());
        return await Task.WhenAll(sockets.Select(socket => AskAsync(socket, vip, port, timeout)));
    }

    /// <summary>One request from <paramref name="source"/>.</summary>
    public static async Task<string?> AskOneAsync(NetworkNamespace client, IPAddress source, IPAddress vip, int port, TimeSpan timeout)
    {
        var socket = await client.RunAsync(() => Bind(source));
        return await AskAsync(socket, vip, port, timeout);
    }

    private static Socket Bind(IPAddress source)
    {
        var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Bind(new IPEndPoint(source, 0));
        return socket;
    }

    private static async Task<string?> AskAsync(Socket socket, IPAddress vip, int port, TimeSpan timeout)
    {
        using (socket)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(vip, port), cts.Token);
                await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /node HTTP/1.0\r\nHost: {vip}\r\n\r\n"), cts.Token);
                var received = new List<byte>();
                byte[] buffer = new byte[512];
                while (true)
                {
                    int n = await socket.ReceiveAsync(buffer, cts.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    received.AddRange(buffer.AsSpan(0, n).ToArray());
                }

                string response = Encoding.ASCII.GetString([.. received]);
                int body = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                return response.StartsWith("HTTP/1.0 200", StringComparison.Ordinal) && body >= 0 ? response[(body + 4)..].Trim() : null;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                return null;
            }
        }
    }
}
