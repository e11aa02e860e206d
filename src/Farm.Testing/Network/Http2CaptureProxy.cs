namespace Farm.Testing.Network;

/// <summary>
/// A TCP relay on loopback that records the gRPC request messages going through it, as an attacker on the heartbeat
/// LAN would capture them: it forwards every byte unchanged both ways and parses the client's HTTP/2 frames (h2c,
/// prior knowledge) to collect each stream's DATA payload, split into gRPC length-prefixed messages as they complete.
/// </summary>
public sealed class Http2CaptureProxy : IAsyncDisposable
{
    private const int PrefaceLength = 24;
    private const byte DataFrame = 0;
    private const byte EndStream = 0x1;
    private const byte Padded = 0x8;

    private readonly TcpListener listener;
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentQueue<byte[]> captured = new();
    private readonly List<Task> tasks = [];
    private readonly Lock gate = new();

    private Http2CaptureProxy(IPEndPoint listen, IPEndPoint target)
    {
        listener = new TcpListener(listen);
        this.target = target;
    }

    /// <summary>Every complete request message seen so far, oldest first.</summary>
    public IReadOnlyList<byte[]> Requests => [.. captured];

    /// <summary>Starts relaying connections made to <paramref name="listen"/> to <paramref name="target"/>.</summary>
    public static Http2CaptureProxy Start(IPEndPoint listen, IPEndPoint target)
    {
        var proxy = new Http2CaptureProxy(listen, target);
        proxy.listener.Start();
        proxy.Track(proxy.AcceptLoopAsync());
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        Task[] pending;
        lock (gate)
        {
            pending = [.. tasks];
        }

        await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        stop.Dispose();
    }

    private void Track(Task task)
    {
        lock (gate)
        {
            tasks.Add(task);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Track(RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var clientSocket = client;
        using var server = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await server.ConnectAsync(target, stop.Token);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            var parser = new FrameParser(captured);
            var up = PumpAsync(clientSocket, server, parser, linked.Token);
            var down = PumpAsync(server, clientSocket, null, linked.Token);
            await Task.WhenAny(up, down);
            await linked.CancelAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the connection ended or the proxy stopped
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, FrameParser? parser, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                parser?.Feed(buffer.AsSpan(0, read));
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // one side closed
        }
    }

    /// <summary>The client side of one HTTP/2 connection: frames in, complete gRPC request messages out.</summary>
    private sealed class FrameParser(ConcurrentQueue<byte[]> output)
    {
        private readonly List<byte> pending = [];
        private readonly Dictionary<uint, List<byte>> bodies = [];
        private bool prefaceSeen;

        public void Feed(ReadOnlySpan<byte> bytes)
        {
            pending.AddRange(bytes);
            if (!prefaceSeen)
            {
                if (pending.Count < PrefaceLength)
                {
                    return;
                }

                pending.RemoveRange(0, PrefaceLength);
                prefaceSeen = true;
            }

            while (pending.Count >= 9)
            {
                int length = (pending[0] << 16) | (pending[1] << 8) | pending[2];
                if (pending.Count < 9 + length)
                {
                    return;
                }

                byte type = pending[3];
                byte flags = pending[4];
                uint stream = BinaryPrimitives.ReadUInt32BigEndian([pending[5], pending[6], pending[7], pending[8]]) & 0x7FFFFFFF;
                byte[] payload = [.. pending.GetRange(9, length)];
                pending.RemoveRange(0, 9 + length);
                if (type == DataFrame)
                {
                    OnData(stream, flags, payload);
                }
            }
        }

        private void OnData(uint stream, byte flags, byte[] payload)
        {
            int start = 0, end = payload.Length;
            if ((flags & Padded) != 0 && payload.Length > 0)
            {
                start = 1;
                end -= payload[0];
            }

            if (!bodies.TryGetValue(stream, out var body))
            {
                bodies[stream] = body = [];
            }

            body.AddRange(payload.AsSpan(start, Math.Max(0, end - start)));

            // Each complete length-prefixed message is taken as soon as its last byte arrives: on a long-lived stream
            // (the heartbeat stream) the stream's end may never come.
            int offset = 0;
            while (body.Count - offset >= 5)
            {
                int size = (int)BinaryPrimitives.ReadUInt32BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(body).Slice(offset + 1, 4));
                if (body.Count - offset - 5 < size)
                {
                    break;
                }

                output.Enqueue(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(body).Slice(offset + 5, size).ToArray());
                offset += 5 + size;
            }

            body.RemoveRange(0, offset);
            if ((flags & EndStream) != 0)
            {
                bodies.Remove(stream);
            }
        }
    }
}
