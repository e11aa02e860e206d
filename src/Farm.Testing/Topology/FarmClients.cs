namespace Farm.Testing.Topology;

/// <summary>Clients that ask the farm "who are you" from chosen source addresses and ports, inside a client namespace.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class FarmClients
{
    /// <summary>
    /// Opens one TCP connection per source (all in parallel) to <paramref name="port"/> of the VIP of the source's
    /// family and returns the first line each got (the answering node's name), or null when none came within
    /// <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string?[]> AskTcpAsync(NetworkNamespace client, IReadOnlyList<IPEndPoint> sources, IPAddress vip4, IPAddress vip6, int port, TimeSpan timeout)
    {
        // Sockets are born in the client namespace; connecting and reading may then happen on any thread.
        var sockets = await client.RunAsync(() => sources.Select(Bind).ToArray());
        var asks = sockets.Select(async (socket, i) =>
        {
            using (socket)
            {
                var vip = sources[i].AddressFamily == AddressFamily.InterNetwork ? vip4 : vip6;
                using var cts = new CancellationTokenSource(timeout);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(vip, port), cts.Token);
                    return await ReadNameAsync(socket, cts.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException)
                {
                    return null;
                }
            }
        });
        return await Task.WhenAll(asks);
    }

    /// <summary>Opens one connection and returns it with the name of the node that answered (null when nobody did).</summary>
    public static async Task<(Socket Socket, string? Name)> OpenAsync(NetworkNamespace client, IPEndPoint source, IPAddress vip, int port, TimeSpan timeout)
    {
        var socket = await client.RunAsync(() => Bind(source));
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(vip, port), cts.Token);
            return (socket, await ReadNameAsync(socket, cts.Token));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return (socket, null);
        }
    }

    /// <summary>Sends a line on an open connection and returns the name in the answer, or null.</summary>
    public static async Task<string?> AskAgainAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.SendAsync("again\n"u8.ToArray(), cts.Token);
            return await ReadNameAsync(socket, cts.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return null;
        }
    }

    /// <summary>Sends one datagram per source to the VIP's UDP port (retrying twice) and returns the name in the reply, or null.</summary>
    public static async Task<string?[]> AskUdpAsync(NetworkNamespace client, IReadOnlyList<IPEndPoint> sources, IPAddress vip4, IPAddress vip6, int port, TimeSpan timeout)
    {
        var sockets = await client.RunAsync(() => sources.Select(s =>
        {
            var socket = new Socket(s.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(s);
            return socket;
        }).ToArray());
        var asks = sockets.Select(async (socket, i) =>
        {
            using (socket)
            {
                var vip = new IPEndPoint(sources[i].AddressFamily == AddressFamily.InterNetwork ? vip4 : vip6, port);
                byte[] buffer = new byte[256];
                for (int attempt = 0; attempt < 3; attempt++)
                {
                    await socket.SendToAsync("who"u8.ToArray(), vip);
                    using var cts = new CancellationTokenSource(timeout / 3);
                    try
                    {
                        var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(vip.Address.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), cts.Token);
                        if (((IPEndPoint)received.RemoteEndPoint).Address.Equals(vip.Address))
                        {
                            return Encoding.ASCII.GetString(buffer, 0, received.ReceivedBytes);
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        // The first datagram can wait for neighbor resolution; try again.
                    }
                }

                return null;
            }
        });
        return await Task.WhenAll(asks);
    }

    private static Socket Bind(IPEndPoint source)
    {
        var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Bind(source);
        return socket;
    }

    private static async Task<string?> ReadNameAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64];
        int length = 0;
        while (length < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (n == 0)
            {
                return null;
            }

            length += n;
            int newline = Array.IndexOf(buffer, (byte)'\n', 0, length);
            if (newline >= 0)
            {
                return Encoding.ASCII.GetString(buffer, 0, newline);
            }
        }

        return null;
    }
}
