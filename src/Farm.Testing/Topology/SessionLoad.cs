namespace Farm.Testing.Topology;

/// <summary>
/// Long-lived client sessions against the <see cref="NameServer"/> of the farm's nodes, from a client namespace: each
/// TCP session keeps one connection and each UDP session one flow for the whole run, exchanging a small message every
/// interval. Records which node answers each session, round trips, resets, stalls, duplicate answers and latencies, so
/// a test can prove that a rebalance disturbs no established session.
/// </summary>
/// <remarks>
/// Cheap enough for a thousand sessions at 20 messages a second each on a small machine: sockets are asynchronous,
/// one receive loop per session waits on its socket, and a few pacer loops (one per <see cref="SessionLoadOptions.SessionsPerPacer"/>
/// sessions) wake every <see cref="SessionLoadOptions.PacerSlot"/> and send for the sessions whose turn it is, so the
/// sends of an interval spread evenly over it. Healthy messages allocate nothing of their own (measured with 1000
/// sessions: a few bytes per round trip, name server and timers included, about 0.7 of a core for both sides).
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class SessionLoad : IAsyncDisposable
{
    private readonly SessionLoadContext context;
    private readonly LoadSession[] sessions;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private Task[] pacers = [];
    private Task<SessionLoadSnapshot>? stopped;
    private long maxLateness;
    private long skippedSlots;

    private SessionLoad(SessionLoadContext context, LoadSession[] sessions)
    {
        this.context = context;
        this.sessions = sessions;
    }

    /// <summary>TCP or UDP.</summary>
    public SessionProtocol Protocol => context.Options.Protocol;

    /// <summary>Number of sessions.</summary>
    public int Count => sessions.Length;

    /// <summary>The clock's timestamp (<see cref="TimeProvider.GetTimestamp"/>) at the start: time zero of every report.</summary>
    public long StartTimestamp => context.Origin;

    /// <summary>Time since the load started: the time base of reports, closes and <see cref="GetLatency(TimeSpan, TimeSpan)"/>.</summary>
    public TimeSpan Elapsed => context.Since(context.Now());

    /// <summary>Every round trip's latency, filed by the time its message was sent (since the load started).</summary>
    public LatencyHistogram Latency => context.Latency;

    /// <summary>
    /// Opens <see cref="SessionLoadOptions.SessionsPerSource"/> sessions from each of <paramref name="sources"/> (an
    /// address of <paramref name="client"/>; port 0 for an ephemeral port) to <paramref name="port"/> of the first of
    /// <paramref name="targets"/> of the source's family (a VIP, or a node's address). The sockets are created and
    /// bound before this returns; TCP sessions connect, and all sessions start exchanging, within the first interval.
    /// </summary>
    /// <exception cref="ArgumentException">Bad options, a source without a target of its family, or a fixed port shared by several sessions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An address outside the test ranges.</exception>
    public static async Task<SessionLoad> StartAsync(
        NetworkNamespace client,
        IReadOnlyList<IPEndPoint> sources,
        IReadOnlyList<IPAddress> targets,
        int port,
        SessionLoadOptions? options = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        options ??= new SessionLoadOptions();
        time ??= TimeProvider.System;
        foreach (var address in sources.Select(s => s.Address).Concat(targets))
        {
            TestAddresses.Require(address);
        }

        Validate(sources, targets, port, options);
        cancellationToken.ThrowIfCancellationRequested();

        var plan = new List<(IPEndPoint Source, IPEndPoint Target)>();
        foreach (var source in sources)
        {
            var target = new IPEndPoint(targets.First(t => t.AddressFamily == source.AddressFamily), port);
            plan.AddRange(Enumerable.Repeat((source, target), options.SessionsPerSource));
        }

        // Sockets are born in the namespace of the thread that creates them; afterwards any thread may use them.
        var sockets = await client.RunAsync(() => CreateSockets(plan.Select(p => p.Source).ToList(), options.Protocol));
        var context = new SessionLoadContext(options, time);
        var load = new SessionLoad(context, [.. plan.Select((p, i) => options.Protocol == SessionProtocol.Tcp
            ? (LoadSession)new TcpLoadSession(i, p.Source, p.Target, sockets[i], context)
            : new UdpLoadSession(i, p.Source, p.Target, sockets[i], context))]);
        load.StartPacers();
        return load;
    }

    /// <summary>Every session and the totals, now (gaps still open count as stalls when long enough).</summary>
    public SessionLoadSnapshot Snapshot() => Build(context.Now());

    /// <summary>The node that answered session <paramref name="session"/> first (TCP: accepted it), or null before any answer.</summary>
    public string? NodeOf(int session) => sessions[session].Node();

    /// <summary>The node of every session (see <see cref="NodeOf"/>), by index.</summary>
    public IReadOnlyList<string?> GetNodes() => [.. sessions.Select(s => s.Node())];

    /// <summary>Latency percentiles of the messages sent in [<paramref name="from"/>, <paramref name="to"/>) since the start, widened to whole histogram slices.</summary>
    /// <remarks>
    /// Only answered messages count. A TCP session sends nothing while a message waits, so a stall is one long sample
    /// rather than one per missed interval: read <see cref="SessionLoadSnapshot.MaxStall"/> beside the percentiles.
    /// </remarks>
    public LatencySummary GetLatency(TimeSpan from, TimeSpan to) => context.Latency.Summarize(from, to);

    /// <summary>Latency percentiles of every answered message so far.</summary>
    public LatencySummary GetLatency() => context.Latency.Summarize();

    /// <summary>
    /// Polls the live snapshot every interval until <paramref name="condition"/> holds and returns that snapshot.
    /// </summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/>; the message holds the last snapshot.</exception>
    public async Task<SessionLoadSnapshot> WaitUntilAsync(Func<SessionLoadSnapshot, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        long deadline = context.Now() + context.ToTicks(timeout);
        var poll = TimeSpan.FromTicks(Math.Max(context.Options.Interval.Ticks, TimeSpan.TicksPerMillisecond * 10));
        while (true)
        {
            var snapshot = Snapshot();
            if (condition(snapshot))
            {
                return snapshot;
            }

            if (context.Now() > deadline)
            {
                throw new TimeoutException($"The session load did not reach the awaited condition within {timeout.TotalSeconds:0.###} s: {snapshot}");
            }

            await Task.Delay(poll, context.Time, cancellationToken);
        }
    }

    /// <summary>
    /// Closes up to <paramref name="count"/> open sessions, lowest index first, gracefully (as the other overload) and
    /// returns how each close went, by index.
    /// </summary>
    public Task<IReadOnlyList<SessionClose>> CloseAsync(int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var closes = new List<Task<SessionClose>>();
        foreach (var session in sessions)
        {
            if (closes.Count == count)
            {
                break;
            }

            if (session.BeginClose() is { } close)
            {
                closes.Add(close);
            }
        }

        return AwaitClosesAsync(closes, cancellationToken);
    }

    /// <summary>
    /// Closes every open session that <paramref name="predicate"/> picks, all at once, gracefully: TCP sends its FIN
    /// (after the answer it still waits for, if any, the server closes too); UDP stops sending and waits for the
    /// answers still due. Returns how each close went, by index.
    /// </summary>
    public Task<IReadOnlyList<SessionClose>> CloseAsync(Func<SessionSnapshot, bool> predicate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        long now = context.Now();
        var closes = new List<Task<SessionClose>>();
        foreach (var session in sessions)
        {
            var snapshot = session.Snapshot(now);
            if (snapshot.State == SessionState.Open && predicate(snapshot) && session.BeginClose() is { } close)
            {
                closes.Add(close);
            }
        }

        return AwaitClosesAsync(closes, cancellationToken);
    }

    /// <summary>
    /// Stops the load: no more messages, every running session ends (its open gap counted), every socket closes.
    /// Returns the final report; later calls return the same report.
    /// </summary>
    public Task<SessionLoadSnapshot> StopAsync(CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            stopped ??= StopCoreAsync();
        }

        return stopped.WaitAsync(cancellationToken);
    }

    /// <summary>Stops the load if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        stopping.Dispose();
    }

    private static void Validate(IReadOnlyList<IPEndPoint> sources, IReadOnlyList<IPAddress> targets, int port, SessionLoadOptions options)
    {
        var errors = new List<string>();
        if (sources.Count == 0)
        {
            errors.Add("no sources");
        }

        if (port is < 1 or > 65535)
        {
            errors.Add($"port {port} is not 1-65535");
        }

        foreach (var family in sources.Select(s => s.AddressFamily).Distinct().Where(f => !targets.Any(t => t.AddressFamily == f)))
        {
            errors.Add($"no target of family {family}");
        }

        if (options.SessionsPerSource < 1)
        {
            errors.Add($"SessionsPerSource {options.SessionsPerSource} is below 1");
        }

        if (options.SessionsPerSource > 1 && sources.Any(s => s.Port != 0))
        {
            errors.Add("a source with a fixed port can carry only one session (SessionsPerSource must be 1)");
        }

        foreach (var duplicate in sources.Where(s => s.Port != 0).GroupBy(s => s).Where(g => g.Count() > 1))
        {
            errors.Add($"source {duplicate.Key} is given {duplicate.Count()} times");
        }

        if (options.SessionsPerPacer < 1)
        {
            errors.Add($"SessionsPerPacer {options.SessionsPerPacer} is below 1");
        }

        foreach (var (name, value) in new[]
        {
            (nameof(options.Interval), options.Interval),
            (nameof(options.AnswerTimeout), options.AnswerTimeout),
            (nameof(options.ConnectTimeout), options.ConnectTimeout),
            (nameof(options.StallThreshold), options.StallThreshold),
            (nameof(options.CloseTimeout), options.CloseTimeout),
            (nameof(options.PacerSlot), options.PacerSlot),
            (nameof(options.LatencySlice), options.LatencySlice),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name} {value} is not positive");
            }
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid session load: " + string.Join("; ", errors) + ".", nameof(options));
        }
    }

    private static Socket[] CreateSockets(List<IPEndPoint> sources, SessionProtocol protocol)
    {
        var created = new List<Socket>(sources.Count);
        try
        {
            foreach (var source in sources)
            {
                Socket socket = protocol == SessionProtocol.Tcp
                    ? new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }
                    : new Socket(source.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                created.Add(socket);
                if (protocol == SessionProtocol.Tcp && source.Port == 0)
                {
                    // IP_BIND_ADDRESS_NO_PORT: bind the source address now, pick the port at connect (ports are then shared per 4-tuple).
                    socket.SetRawSocketOption(LinuxSocketOptions.Ip.Level, LinuxSocketOptions.Ip.BindAddressNoPort, BitConverter.GetBytes(1));
                }

                socket.Bind(source);
            }

            return [.. created];
        }
        catch
        {
            foreach (var socket in created)
            {
                socket.Dispose();
            }

            throw;
        }
    }

    private static async Task<IReadOnlyList<SessionClose>> AwaitClosesAsync(List<Task<SessionClose>> closes, CancellationToken cancellationToken)
    {
        var done = await Task.WhenAll(closes).WaitAsync(cancellationToken);
        return [.. done.OrderBy(c => c.Index)];
    }

    private void StartPacers()
    {
        int count = (sessions.Length + context.Options.SessionsPerPacer - 1) / context.Options.SessionsPerPacer;
        pacers = [.. Enumerable.Range(0, count).Select(p =>
        {
            LoadSession[] share = [.. sessions.Where((_, i) => i % count == p)];
            return Task.Run(() => PaceAsync(share, p, count));
        })];
    }

    // Slot k of the pacer falls due at began + k * interval / groups and serves group k % groups; a session is in one
    // group, so it is served once per interval. A pacer that falls behind serves the slots it missed at once, but at
    // most one interval's worth (no burst of several messages per session); the rest are counted as skipped.
    private async Task PaceAsync(LoadSession[] share, int pacer, int pacerCount)
    {
        var token = stopping.Token;
        var options = context.Options;
        int groups = (int)Math.Clamp(Math.Round(options.Interval / options.PacerSlot), 1, share.Length);
        double slotTicks = (double)context.IntervalTicks / groups;
        long began = context.Origin + (long)(slotTicks * pacer / pacerCount);
        using var timer = new PeriodicTimer(options.Interval / groups, context.Time);
        long next = 0;
        try
        {
            do
            {
                long now = context.Now();
                long due = (long)Math.Floor((now - began) / slotTicks);
                if (due < next)
                {
                    continue;
                }

                if (due - next >= groups)
                {
                    Interlocked.Add(ref skippedSlots, due - next - groups + 1);
                    next = due - groups + 1;
                }

                long lateness = now - (began + (long)(next * slotTicks));
                InterlockedMax(ref maxLateness, lateness);
                for (; next <= due; next++)
                {
                    for (int i = (int)(next % groups); i < share.Length; i += groups)
                    {
                        Tick(share[i]);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(token));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    private static void Tick(LoadSession session)
    {
        try
        {
            session.Tick();
        }
#pragma warning disable CA1031 // A bug in one session must end that session only; the pacer goes on for the others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            session.Fault(e);
        }
    }

    private static void InterlockedMax(ref long location, long value)
    {
        long seen = Volatile.Read(ref location);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref location, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    private SessionLoadSnapshot Build(long now) => new(
        context.Since(now),
        [.. sessions.Select(s => s.Snapshot(now))],
        context.Options.StallThreshold,
        context.ToSpan(Volatile.Read(ref maxLateness)),
        Interlocked.Read(ref skippedSlots));

    private async Task<SessionLoadSnapshot> StopCoreAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAll(pacers);
        long now = context.Now();
        foreach (var session in sessions)
        {
            session.Stop(now);
        }

        var report = Build(now);

        // Every socket is closed now, so every receive loop ends.
        await Task.WhenAll(sessions.Select(s => s.Runner));
        return report;
    }
}
