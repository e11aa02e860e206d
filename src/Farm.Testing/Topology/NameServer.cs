namespace Farm.Testing.Topology;

/// <summary>
/// A tiny server inside a node's namespace that answers "who are you" with the node's name: TCP sends the name and a
/// newline at once and again for every chunk received; UDP answers every datagram with the name (and echoes datagrams
/// that begin with <see cref="EchoPrefix"/>). Tests tell from the answer which node served a client (see
/// <see cref="FarmClients"/> and <see cref="SessionLoad"/>).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class NameServer : IAsyncDisposable
{
    // SO_RCVBUFFORCE: a UDP receive buffer beyond net.core.rmem_max (root only). One socket serves every client of the
    // node: with the default buffer (~200 KB) a burst of a thousand sessions' requests overflows it while the loop
    // waits for a thread, and the drops would look like the farm's.
    private const int UdpReceiveBuffer = 4 << 20;

    // Connections the kernel may hold for the app (net.core.somaxconn of a new namespace is 4096): a burst of clients at
    // a takeover waits in the queue instead of being dropped there.
    private const int Backlog = 4096;

    // How long an accept thread waits for a connection before it looks whether the server stops.
    private static readonly TimeSpan AcceptPoll = TimeSpan.FromMilliseconds(100);

    private readonly List<Socket> sockets;
    private readonly List<Thread> acceptThreads = [];
    private readonly CancellationTokenSource stopping = new();
    private readonly byte[] line;
    private long connections;
    private long datagrams;
    private int disposed;

    private NameServer(string name, List<Socket> sockets)
    {
        Name = name;
        this.sockets = sockets;
        line = Encoding.ASCII.GetBytes(name + "\n");
    }

    /// <summary>
    /// A UDP datagram that begins with these bytes is answered with the name, a newline and the datagram itself, so a
    /// client can tell which of its requests an answer belongs to; other datagrams get the bare name.
    /// </summary>
    public static ReadOnlySpan<byte> EchoPrefix => "echo "u8;

    /// <summary>The name it answers with.</summary>
    public string Name { get; }

    /// <summary>TCP connections accepted so far.</summary>
    public long Connections => Interlocked.Read(ref connections);

    /// <summary>UDP datagrams answered so far.</summary>
    public long Datagrams => Interlocked.Read(ref datagrams);

    /// <summary>
    /// Listens inside <paramref name="ns"/> on every address for each TCP port (dual stack), and on each UDP endpoint
    /// (bound to that address, e.g. a VIP, so replies leave from it).
    /// </summary>
    public static async Task<NameServer> StartAsync(NetworkNamespace ns, string name, IEnumerable<int> tcpPorts, IEnumerable<IPEndPoint> udpEndpoints)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(tcpPorts);
        ArgumentNullException.ThrowIfNull(udpEndpoints);
        int[] ports = [.. tcpPorts];
        IPEndPoint[] udp = [.. udpEndpoints];

        // Created on a thread inside the namespace: sockets belong to the namespace they were born in.
        var sockets = await ns.RunAsync(() =>
        {
            var created = new List<Socket>();
            try
            {
                foreach (int port in ports)
                {
                    var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                    created.Add(listener);
                    listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    listener.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
                    listener.Listen(Backlog);
                }

                foreach (var endpoint in udp)
                {
                    var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                    created.Add(socket);
                    bool v4 = endpoint.AddressFamily == AddressFamily.InterNetwork;
                    // IP_FREEBIND / IPV6_FREEBIND: bind a VIP before the daemon has put it on lo (and keep the socket across restarts).
                    socket.SetRawSocketOption(v4 ? LinuxSocketOptions.Ip.Level : LinuxSocketOptions.Ipv6.Level, v4 ? LinuxSocketOptions.Ip.Freebind : LinuxSocketOptions.Ipv6.Freebind, BitConverter.GetBytes(1));
                    try
                    {
                        socket.SetRawSocketOption(LinuxSocketOptions.Socket.Level, LinuxSocketOptions.Socket.RcvBufForce, BitConverter.GetBytes(UdpReceiveBuffer));
                    }
                    catch (SocketException)
                    {
                        socket.ReceiveBufferSize = UdpReceiveBuffer; // not root: as much as net.core.rmem_max allows
                    }

                    socket.Bind(endpoint);
                }

                return created;
            }
            catch
            {
                foreach (var s in created)
                {
                    s.Dispose();
                }

                throw;
            }
        });

        var server = new NameServer(name, sockets);
        foreach (var socket in sockets)
        {
            if (socket.SocketType == SocketType.Stream)
            {
                var thread = new Thread(() => server.AcceptLoop(socket)) { IsBackground = true, Name = "nameserver-accept" };
                server.acceptThreads.Add(thread);
                thread.Start();
            }
            else
            {
                _ = server.UdpLoopAsync(socket);
            }
        }

        return server;
    }

    /// <summary>Closes every socket (a second call does nothing).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync();
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        foreach (var thread in acceptThreads)
        {
            thread.Join(AcceptPoll * 10);
        }

        stopping.Dispose();
    }

    /// <summary>
    /// Accepts and sends the name on a thread of its own: the answer a client waits for does not wait for the thread
    /// pool, which the process hosting the server (a test or benchmark driving thousands of connections a second) may keep
    /// busy; a full pool would otherwise overflow the listen queue and look like the farm's failure. Later chunks are
    /// answered asynchronously.
    /// </summary>
    private void AcceptLoop(Socket listener)
    {
        var token = stopping.Token;
        try
        {
            listener.Blocking = false;
            while (!token.IsCancellationRequested)
            {
                if (!listener.Poll(AcceptPoll, SelectMode.SelectRead))
                {
                    continue;
                }

                // Everything queued, then wait again: one poll per burst, not per connection.
                while (TryAccept(listener) is { } connection)
                {
                    Interlocked.Increment(ref connections);
                    try
                    {
                        connection.Send(line);
                    }
                    catch (SocketException)
                    {
                        connection.Dispose(); // the client already went away
                        continue;
                    }

                    // Later chunks on the pool: starting the receive here would cost this thread a registration per connection.
                    ThreadPool.UnsafeQueueUserWorkItem(c => _ = ServeAsync(c.Connection, c.Line, c.Token), (Connection: connection, Line: line, Token: token), preferLocal: false);
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            // Stopped.
        }

        static Socket? TryAccept(Socket listener)
        {
            try
            {
                return listener.Accept();
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                return null; // nothing queued, or a connection gone before it was taken: wait for the next
            }
        }
    }

    private static async Task ServeAsync(Socket connection, byte[] line, CancellationToken token)
    {
        using (connection)
        {
            byte[] buffer = new byte[256];
            try
            {
                while (await connection.ReceiveAsync(buffer, token) > 0)
                {
                    await connection.SendAsync(line, token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // The client went away or the server stops.
            }
        }
    }

    private async Task UdpLoopAsync(Socket socket)
    {
        var token = stopping.Token;
        byte[] name = Encoding.ASCII.GetBytes(Name);
        byte[] buffer = new byte[256];
        byte[] echo = new byte[name.Length + 1 + buffer.Length];
        name.CopyTo(echo, 0);
        echo[name.Length] = (byte)'\n';
        var from = new SocketAddress(socket.AddressFamily);
        while (!token.IsCancellationRequested)
        {
            try
            {
                int received = await socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, from, token);
                Interlocked.Increment(ref datagrams);
                ReadOnlyMemory<byte> answer = name;
                if (buffer.AsSpan(0, received).StartsWith(EchoPrefix))
                {
                    buffer.AsSpan(0, received).CopyTo(echo.AsSpan(name.Length + 1));
                    answer = echo.AsMemory(0, name.Length + 1 + received);
                }

                await socket.SendToAsync(answer, SocketFlags.None, from, token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // E.g. an ICMP error of an earlier reply reported on this socket: keep serving.
            }
        }
    }
}
