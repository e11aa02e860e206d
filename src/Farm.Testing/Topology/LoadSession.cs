namespace Farm.Testing.Topology;

/// <summary>
/// What the TCP and UDP sessions of a <see cref="SessionLoad"/> share: the record of answers, stalls and nodes, the
/// end of the session and its close. Everything mutable is guarded by <see cref="Gate"/>; the pacer calls
/// <see cref="Tick"/> once per interval and the session's own receive loop handles answers.
/// </summary>
[SupportedOSPlatform("linux")]
internal abstract class LoadSession(int index, IPEndPoint source, IPEndPoint target, Socket socket, SessionLoadContext context)
{
    private byte[]? nodeBytes;
    private List<string>? nodes;
    private long lastAnswerAt;
    private long longestGap;
    private int stalls;
    private long maxLatency;
    private long connectTime = -1;
    private long endedAt;
    private string? endReason;
    private IPEndPoint? localEndPoint;
    private TaskCompletionSource<SessionClose>? closing;

    public int Index { get; } = index;

    public IPEndPoint Source { get; } = source;

    public IPEndPoint Target { get; } = target;

    /// <summary>The session's receive loop once started; it ends by itself when the socket closes.</summary>
    public Task Runner { get; protected set; } = Task.CompletedTask;

    protected abstract SessionProtocol Protocol { get; }

    protected Socket Socket { get; } = socket;

    protected SessionLoadContext Context { get; } = context;

    protected Lock Gate { get; } = new();

    protected SessionState State { get; set; }

    protected long CloseRequestedAt { get; private set; }

    protected long RoundTrips { get; set; }

    protected long Timeouts { get; set; }

    protected long Lost { get; set; }

    protected long LateAnswers { get; set; }

    protected long DuplicateAnswers { get; set; }

    protected long UnexpectedAnswers { get; set; }

    /// <summary>Ended: nothing more is sent, received or recorded.</summary>
    protected bool IsOver => State is SessionState.Closed or SessionState.Reset or SessionState.Failed or SessionState.Stopped;

    /// <summary>The pacer's call, once per interval: start, send, and check the session's time limits.</summary>
    public void Tick()
    {
        bool start;
        lock (Gate)
        {
            start = Step(Context.Now());
        }

        if (start)
        {
            Runner = GuardAsync(RunAsync);
        }
    }

    /// <summary>The protocol's part of <see cref="Tick"/>, under the lock; true when the session starts now (then <see cref="RunAsync"/> runs).</summary>
    protected abstract bool Step(long now);

    /// <summary>The session's receive loop (TCP: from its connect on); it ends by itself when the socket closes.</summary>
    protected abstract Task RunAsync();

    /// <summary>The first node that answered, or null.</summary>
    public string? Node()
    {
        lock (Gate)
        {
            return nodes?[0];
        }
    }

    /// <summary>Starts closing an open session; null when it is not open.</summary>
    public Task<SessionClose>? BeginClose()
    {
        lock (Gate)
        {
            if (State != SessionState.Open)
            {
                return null;
            }

            long now = Context.Now();
            State = SessionState.Closing;
            CloseRequestedAt = now;
            closing = new TaskCompletionSource<SessionClose>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = closing.Task;
            OnCloseRequested(now);
            return task;
        }
    }

    /// <summary>The load stops: a running session ends here, its open gap counted, and its socket closes.</summary>
    public void Stop(long now)
    {
        lock (Gate)
        {
            if (IsOver)
            {
                return;
            }

            if (lastAnswerAt != 0)
            {
                Gap(now);
            }

            End(SessionState.Stopped, now, State == SessionState.Closing ? "the load stopped during the close" : null);
        }
    }

    /// <summary>Runs the session's receive loop; a bug in it ends this session as failed (<see cref="Fault"/>), never the load.</summary>
    protected async Task GuardAsync(Func<Task> loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        try
        {
            await loop();
        }
#pragma warning disable CA1031 // A bug in one session must end that session only, never the load.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Fault(e);
        }
    }

    /// <summary>A bug of the session's own code: it ends as failed, the others go on.</summary>
    public void Fault(Exception exception)
    {
        lock (Gate)
        {
            if (!IsOver)
            {
                End(SessionState.Failed, Context.Now(), "load generator error: " + exception.Message);
            }
        }
    }

    public SessionSnapshot Snapshot(long now)
    {
        lock (Gate)
        {
            long longest = longestGap;
            int stallCount = stalls;
            if (!IsOver && lastAnswerAt != 0 && now > lastAnswerAt)
            {
                long open = now - lastAnswerAt;
                longest = Math.Max(longest, open);
                stallCount += open > Context.StallThresholdTicks ? 1 : 0;
            }

            return new SessionSnapshot
            {
                Index = Index,
                Protocol = Protocol,
                Source = Source,
                LocalEndPoint = localEndPoint,
                Target = Target,
                State = State,
                Node = nodes?[0],
                Nodes = nodes is null ? [] : [.. nodes],
                RoundTrips = RoundTrips,
                Timeouts = Timeouts,
                Lost = Lost,
                LateAnswers = LateAnswers,
                DuplicateAnswers = DuplicateAnswers,
                UnexpectedAnswers = UnexpectedAnswers,
                Stalls = stallCount,
                LongestStall = Context.ToSpan(longest),
                MaxLatency = Context.ToSpan(maxLatency),
                ConnectTime = connectTime < 0 ? null : Context.ToSpan(connectTime),
                EndedAt = IsOver ? Context.Since(endedAt) : null,
                EndReason = endReason,
            };
        }
    }

    /// <summary>Protocol part of a close, under the lock: TCP sends its FIN; UDP may be done at once.</summary>
    protected abstract void OnCloseRequested(long now);

    /// <summary>The baseline of the first gap: the connect start (TCP) or the first request (UDP).</summary>
    protected void Begin(long now) => lastAnswerAt = now;

    protected void SetLocalEndPoint(EndPoint? endPoint) => localEndPoint = endPoint as IPEndPoint;

    protected void SetConnectTime(long ticks) => connectTime = ticks;

    /// <summary>An answer to the message sent at <paramref name="sentAt"/>.</summary>
    protected void Answer(long sentAt, long now)
    {
        long latency = now - sentAt;
        RoundTrips++;
        maxLatency = Math.Max(maxLatency, latency);
        Context.Latency.Record(Context.Since(sentAt), Context.ToSpan(latency));
        Gap(now);
    }

    /// <summary>Closes the gap that began at the previous answer.</summary>
    protected void Gap(long now)
    {
        long gap = now - lastAnswerAt;
        longestGap = Math.Max(longestGap, gap);
        if (gap > Context.StallThresholdTicks)
        {
            stalls++;
        }

        lastAnswerAt = now;
    }

    /// <summary>Notes the node an answer names; false when it is not the session's first node.</summary>
    protected bool SeeNode(ReadOnlySpan<byte> name)
    {
        if (nodeBytes is null)
        {
            nodeBytes = name.ToArray();
            nodes = [Encoding.ASCII.GetString(name)];
            return true;
        }

        if (name.SequenceEqual(nodeBytes))
        {
            return true;
        }

        // Only on a failure: allocating here costs nothing in a healthy run.
        string other = Encoding.ASCII.GetString(name);
        if (!nodes!.Contains(other))
        {
            nodes.Add(other);
        }

        return false;
    }

    /// <summary>Ends the session: records how, completes a pending close and closes the socket.</summary>
    protected void End(SessionState state, long now, string? reason)
    {
        State = state;
        endedAt = now;
        endReason = reason;
        if (closing is not null)
        {
            bool clean = state == SessionState.Closed && reason is null;
            closing.TrySetResult(new SessionClose(Index, nodes?[0], Context.Since(CloseRequestedAt), Context.Since(now), clean, reason));
        }

        Socket.Dispose();
    }

    protected static string Describe(Exception exception) => exception switch
    {
        SocketException socket => socket.SocketErrorCode.ToString(),
        ObjectDisposedException => "socket closed",
        _ => exception.Message,
    };
}
