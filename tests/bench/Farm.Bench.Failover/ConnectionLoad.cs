namespace Farm.Bench.Failover;

/// <summary>
/// Opens a new TCP connection from every source address every <c>period</c>, inside a client namespace, reads the first
/// line (the answering node's name) and resets the connection (SO_LINGER 0: no TIME_WAIT on either side, so the load
/// can run at thousands of connections per second). Records every attempt. Stops by itself after <c>maxDuration</c>.
/// </summary>
/// <remarks>
/// One pacer thread lives inside the namespace (sockets are born in the namespace of the thread that creates them);
/// it spreads the sources over slots of about 2 ms, and closes attempts older than the attempt timeout. Connects and
/// reads complete on the thread pool.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class ConnectionLoad : IAsyncDisposable
{
    // IP_BIND_ADDRESS_NO_PORT: bind the source address now, pick the port at connect (ports are shared per 4-tuple).
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;
    private static readonly TimeSpan Slot = TimeSpan.FromMilliseconds(2);

    private readonly IReadOnlyList<IPAddress> sources;
    private readonly IPEndPoint target;
    private readonly TimeSpan period;
    private readonly TimeSpan attemptTimeout;
    private readonly TimeSpan maxDuration;
    private readonly int nodeCount;
    private readonly TimeProvider time;
    private readonly ConnectionAttempt[] attempts;
    private readonly long[] lastAnswered;
    private readonly CancellationTokenSource stopping = new();
    private Task pacer = Task.CompletedTask;
    private int issued;
    private int finished;
    private long skippedSlots;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> otherErrors = new();

    private ConnectionLoad(IReadOnlyList<IPAddress> sources, IPEndPoint target, TimeSpan period, TimeSpan attemptTimeout, TimeSpan maxDuration, int nodeCount, TimeProvider time)
    {
        this.sources = sources;
        this.target = target;
        this.period = period;
        this.attemptTimeout = attemptTimeout;
        this.maxDuration = maxDuration;
        this.nodeCount = nodeCount;
        this.time = time;
        attempts = new ConnectionAttempt[checked((int)(sources.Count * Math.Ceiling(maxDuration / period)) + sources.Count)];
        lastAnswered = new long[sources.Count * nodeCount];
    }

    /// <summary>When the pacer started (monotonic timestamp of <see cref="TimeProvider"/>).</summary>
    public long Began { get; private set; }

    /// <summary>When the pacer stopped issuing attempts.</summary>
    public long Finished { get; private set; }

    /// <summary>Slots the pacer could not serve in time and skipped (the machine could not keep the rate).</summary>
    public long SkippedSlots => Interlocked.Read(ref skippedSlots);

    /// <summary>Longest time between two wake-ups of the pacer (ticks), and when it ended: a stall of the benchmark itself.</summary>
    public (long Length, long EndedAt) LongestStall { get; private set; }

    /// <summary>Socket errors that ended attempts as <see cref="AttemptOutcome.Failed"/> or <see cref="AttemptOutcome.Broken"/>, by name.</summary>
    public IReadOnlyDictionary<string, int> OtherErrors => otherErrors;

    /// <summary>Every attempt, in the order they were issued; complete only after <see cref="StopAsync"/>.</summary>
    public ReadOnlySpan<ConnectionAttempt> Attempts => attempts.AsSpan(0, Volatile.Read(ref issued));

    /// <summary>Starts the load: one attempt per source every <paramref name="period"/>, each abandoned after <paramref name="attemptTimeout"/>.</summary>
    public static ConnectionLoad Start(
        NetworkNamespace client,
        IReadOnlyList<IPAddress> sources,
        IPEndPoint target,
        TimeSpan period,
        TimeSpan attemptTimeout,
        TimeSpan maxDuration,
        int nodeCount,
        TimeProvider time)
    {
        foreach (var source in sources)
        {
            TestAddresses.Require(source);
        }

        TestAddresses.Require(target.Address);
        var load = new ConnectionLoad(sources, target, period, attemptTimeout, maxDuration, nodeCount, time);
        load.pacer = client.RunAsync(load.Pace);
        return load;
    }

    /// <summary>The last time (monotonic timestamp) <paramref name="client"/> got an answer from <paramref name="node"/>, or 0.</summary>
    public long LastAnswered(int client, int node) => Volatile.Read(ref lastAnswered[(client * nodeCount) + node]);

    /// <summary>Stops issuing attempts, aborts those still open and waits until every attempt is recorded.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await pacer;
        long deadline = time.GetTimestamp() + (10 * time.TimestampFrequency);
        while (Volatile.Read(ref finished) < Volatile.Read(ref issued))
        {
            if (time.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{Volatile.Read(ref issued) - Volatile.Read(ref finished)} connection attempts did not end within 10 s of the stop.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), time, cancellationToken);
        }
    }

    /// <summary>Stops the pacer if it still runs (open attempts are aborted; their records may stay incomplete).</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await pacer;
        stopping.Dispose();
    }

    private void Pace()
    {
        int groups = Math.Clamp((int)Math.Round(period / Slot), 1, sources.Count);
        long slotTicks = Math.Max(1, (long)(period.TotalSeconds * time.TimestampFrequency / groups));
        long maxTicks = (long)(maxDuration.TotalSeconds * time.TimestampFrequency);
        long timeoutTicks = (long)(attemptTimeout.TotalSeconds * time.TimestampFrequency);
        var open = new Queue<(long Started, Socket[] Sockets)>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(period.TotalSeconds / groups), time);
        Began = time.GetTimestamp();
        long nextSlot = 0;
        long previousWake = Began;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                long now = time.GetTimestamp();
                if (now - previousWake > LongestStall.Length)
                {
                    LongestStall = (now - previousWake, now);
                }

                previousWake = now;
                if (now - Began >= maxTicks)
                {
                    break; // bounded: the load ends by itself
                }

                // Issue every slot that is due; after a stall, at most one period's worth (no bursts), the rest is skipped.
                long due = (now - Began) / slotTicks;
                if (due - nextSlot >= groups)
                {
                    Interlocked.Add(ref skippedSlots, due - nextSlot + 1 - groups);
                    nextSlot = due - groups + 1;
                }

                for (; nextSlot <= due; nextSlot++)
                {
                    if (!Issue((int)(nextSlot % groups), groups, open))
                    {
                        return; // capacity reached
                    }
                }

                while (open.Count > 0 && now - open.Peek().Started >= timeoutTicks)
                {
                    Abort(open.Dequeue().Sockets);
                }

                try
                {
                    if (!timer.WaitForNextTickAsync(stopping.Token).AsTask().GetAwaiter().GetResult())
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        finally
        {
            Finished = time.GetTimestamp();
            while (open.Count > 0)
            {
                Abort(open.Dequeue().Sockets);
            }
        }
    }

    private bool Issue(int group, int groups, Queue<(long Started, Socket[] Sockets)> open)
    {
        int count = (sources.Count - group + groups - 1) / groups;
        var sockets = new Socket[count];
        long started = time.GetTimestamp();
        for (int k = 0, c = group; c < sources.Count; k++, c += groups)
        {
            int index = Volatile.Read(ref issued);
            if (index >= attempts.Length)
            {
                Array.Resize(ref sockets, k);
                open.Enqueue((started, sockets));
                return false;
            }

            Volatile.Write(ref issued, index + 1);
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true,
                LingerState = new LingerOption(true, 0),
            };
            sockets[k] = socket;
            try
            {
                socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                socket.Bind(new IPEndPoint(sources[c], 0));
            }
            catch (SocketException)
            {
                Record(index, c, started, AttemptOutcome.Failed, -1);
                socket.Dispose();
                continue;
            }

            _ = RunAsync(index, c, started, socket);
        }

        open.Enqueue((started, sockets));
        return true;
    }

    private async Task RunAsync(int index, int client, long started, Socket socket)
    {
        var outcome = AttemptOutcome.Failed;
        sbyte node = -1;
        long connected = 0;
        try
        {
            await socket.ConnectAsync(target, CancellationToken.None);
            connected = time.GetTimestamp();
            byte[] buffer = new byte[32];
            int length = 0;
            outcome = AttemptOutcome.Broken;
            while (length < buffer.Length)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, CancellationToken.None);
                if (n == 0)
                {
                    break;
                }

                length += n;
                int newline = Array.IndexOf(buffer, (byte)'\n', 0, length);
                if (newline >= 0)
                {
                    node = ParseNode(buffer.AsSpan(0, newline));
                    outcome = node >= 0 ? AttemptOutcome.Answered : AttemptOutcome.Failed;
                    break;
                }
            }
        }
        catch (SocketException e)
        {
            if (e.SocketErrorCode is not (SocketError.ConnectionRefused or SocketError.OperationAborted or SocketError.Interrupted))
            {
                otherErrors.AddOrUpdate(e.SocketErrorCode.ToString(), 1, (_, n) => n + 1);
            }

            outcome = e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => AttemptOutcome.Refused,
                SocketError.OperationAborted or SocketError.Interrupted => AttemptOutcome.TimedOut,
                SocketError.ConnectionReset when outcome == AttemptOutcome.Broken => AttemptOutcome.Broken,
                _ => outcome == AttemptOutcome.Broken ? AttemptOutcome.Broken : AttemptOutcome.Failed,
            };
        }
        catch (ObjectDisposedException)
        {
            // The pacer closed it: the attempt outlived its timeout (or the load stopped).
            outcome = AttemptOutcome.TimedOut;
        }
        finally
        {
            socket.Dispose();
        }

        Record(index, client, started, outcome, node, connected);
    }

    private void Record(int index, int client, long started, AttemptOutcome outcome, sbyte node, long connected = 0)
    {
        long ended = time.GetTimestamp();
        attempts[index] = new ConnectionAttempt { Client = client, Started = started, Connected = connected, Ended = ended, Outcome = outcome, Node = node };
        if (outcome == AttemptOutcome.Answered && node < nodeCount)
        {
            ref long slot = ref lastAnswered[(client * nodeCount) + node];
            long seen;
            do
            {
                seen = Volatile.Read(ref slot);
            }
            while (ended > seen && Interlocked.CompareExchange(ref slot, ended, seen) != seen);
        }

        Interlocked.Increment(ref finished);
    }

    private static void Abort(Socket[] sockets)
    {
        // Disposing a socket whose attempt already ended is a no-op; a pending connect or read fails with "aborted".
        foreach (var socket in sockets)
        {
            socket?.Dispose();
        }
    }

    /// <summary>"node12" → 12; anything else → -1.</summary>
    private static sbyte ParseNode(ReadOnlySpan<byte> name) =>
        name.StartsWith("node"u8) && int.TryParse(name[4..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i) && i <= sbyte.MaxValue
            ? (sbyte)i
            : (sbyte)-1;
}
