namespace Farm.Testing.Topology;

/// <summary>
/// One UDP flow: a socket bound to the session's source that sends a numbered request every interval and matches the
/// answers (the name server echoes the request after its name, see <see cref="NameServer.EchoPrefix"/>) to their
/// requests, so it can tell in-time, late, duplicate and missing answers apart.
/// </summary>
/// <remarks>
/// Requests wait in a ring long enough to outlive the answer timeout. Loss is counted exactly without keeping history:
/// a request that times out is lost at once when a later request was already answered in time; otherwise it waits in
/// <see cref="awaitingLoss"/> until a later answer comes (then it was lost) or forever (a stall at the end of the run).
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class UdpLoadSession : LoadSession
{
    // A slot's state; 0 is a slot never used.
    private const byte Waiting = 1;
    private const byte Answered = 2;
    private const byte Expired = 3;
    private const byte AnsweredLate = 4;

    private readonly byte[] request;
    private readonly byte[] buffer = new byte[256];
    private readonly SocketAddress target;
    private readonly SocketAddress from;
    private readonly long[] sentAt;
    private readonly long[] numbers;
    private readonly byte[] states;
    private readonly int mask;
    private long next = 1;
    private long oldest = 1;
    private int waiting;
    private long highestAnswered;
    private long awaitingLoss;
    private bool sending;
    private long timeoutsAtClose;

    public UdpLoadSession(int index, IPEndPoint source, IPEndPoint target, Socket socket, SessionLoadContext context)
        : base(index, source, target, socket, context)
    {
        this.target = target.Serialize();
        from = new SocketAddress(target.AddressFamily);
        request = new byte[NameServer.EchoPrefix.Length + sizeof(long)];
        NameServer.EchoPrefix.CopyTo(request);
        int ring = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, (context.AnswerTimeoutTicks / Math.Max(1, context.IntervalTicks)) + 3));
        sentAt = new long[ring];
        numbers = new long[ring];
        states = new byte[ring];
        mask = ring - 1;
        SetLocalEndPoint(socket.LocalEndPoint);
    }

    protected override SessionProtocol Protocol => SessionProtocol.Udp;

    protected override bool Step(long now)
    {
        switch (State)
        {
            case SessionState.Pending:
                State = SessionState.Open;
                Begin(now);
                Send(now);
                return true;
            case SessionState.Open:
                Expire(now);
                Send(now);
                break;
            case SessionState.Closing:
                Expire(now);
                FinishClose(now);
                break;
        }

        return false;
    }

    protected override void OnCloseRequested(long now)
    {
        timeoutsAtClose = Timeouts;
        FinishClose(now);
    }

    // Closed once no request waits any more: each got its answer or timed out.
    private void FinishClose(long now)
    {
        if (waiting == 0)
        {
            long unanswered = Timeouts - timeoutsAtClose;
            End(SessionState.Closed, now, unanswered > 0 ? $"{unanswered} requests waiting at the close went unanswered" : null);
        }
    }

    private void Send(long now)
    {
        if (sending)
        {
            return; // the previous datagram is still in the socket's hands (never seen in practice)
        }

        long number = next++;
        int slot = (int)(number & mask);
        if (states[slot] == Waiting)
        {
            ExpireSlot(slot); // cannot happen while the ring outlives the answer timeout; keeps the books right if it does
        }

        numbers[slot] = number;
        sentAt[slot] = now;
        states[slot] = Waiting;
        waiting++;
        BinaryPrimitives.WriteInt64LittleEndian(request.AsSpan(NameServer.EchoPrefix.Length), number);
        try
        {
            var send = Socket.SendToAsync(request, SocketFlags.None, target);
            if (send.IsCompleted)
            {
                send.GetAwaiter().GetResult();
            }
            else
            {
                sending = true;
                _ = ObserveSendAsync(send);
            }
        }
        catch (SocketException)
        {
            // E.g. no neighbor entry yet: the request simply goes unanswered and is counted when it times out.
        }
    }

    private async Task ObserveSendAsync(ValueTask<int> send)
    {
        try
        {
            await send;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // As in Send: an unanswered request.
        }
        finally
        {
            lock (Gate)
            {
                sending = false;
            }
        }
    }

    private void Expire(long now)
    {
        while (oldest < next)
        {
            int slot = (int)(oldest & mask);
            if (numbers[slot] == oldest && states[slot] == Waiting)
            {
                if (now - sentAt[slot] <= Context.AnswerTimeoutTicks)
                {
                    return; // every later request is younger
                }

                ExpireSlot(slot);
            }

            oldest++;
        }
    }

    private void ExpireSlot(int slot)
    {
        states[slot] = Expired;
        waiting--;
        Timeouts++;
        if (numbers[slot] < highestAnswered)
        {
            Lost++;
        }
        else
        {
            awaitingLoss++;
        }
    }

    protected override async Task RunAsync()
    {
        while (true)
        {
            int received;
            try
            {
                received = await Socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, from);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                lock (Gate)
                {
                    if (IsOver || e.SocketErrorCode == SocketError.OperationAborted)
                    {
                        return;
                    }

                    UnexpectedAnswers++; // an ICMP error reported on the socket: the request just goes unanswered
                }

                continue;
            }

            long now = Context.Now();
            lock (Gate)
            {
                if (IsOver)
                {
                    return;
                }

                Datagram(buffer.AsSpan(0, received), now);
            }
        }
    }

    // An answer is "name\n" followed by the request it answers.
    private void Datagram(ReadOnlySpan<byte> datagram, long now)
    {
        if (!FromTarget())
        {
            UnexpectedAnswers++;
            return;
        }

        int newline = datagram.IndexOf((byte)'\n');
        SeeNode(newline < 0 ? datagram : datagram[..newline]);
        var echo = newline < 0 ? default : datagram[(newline + 1)..];
        if (echo.Length != request.Length || !echo.StartsWith(NameServer.EchoPrefix))
        {
            UnexpectedAnswers++;
            return;
        }

        long number = BinaryPrimitives.ReadInt64LittleEndian(echo[NameServer.EchoPrefix.Length..]);
        if (number <= 0 || number >= next)
        {
            UnexpectedAnswers++;
            return;
        }

        int slot = (int)(number & mask);
        if (numbers[slot] != number)
        {
            LateAnswers++; // so old that its slot was reused: it had timed out long ago
            return;
        }

        switch (states[slot])
        {
            case Waiting:
                states[slot] = Answered;
                waiting--;
                Answer(sentAt[slot], now);
                if (number > highestAnswered)
                {
                    highestAnswered = number;
                    Lost += awaitingLoss;
                    awaitingLoss = 0;
                }

                if (State == SessionState.Closing)
                {
                    FinishClose(now);
                }

                break;
            case Expired:
                states[slot] = AnsweredLate;
                LateAnswers++;
                break;
            default:
                DuplicateAnswers++;
                break;
        }
    }

    // Port and address of the sender against the target's (sockaddr_in: port at 2, address at 4; sockaddr_in6: port
    // at 2, address at 8); the flow label and scope are ignored.
    private bool FromTarget()
    {
        var got = from.Buffer.Span;
        var want = target.Buffer.Span;
        if (from.Family != target.Family || from.Size != target.Size)
        {
            return false;
        }

        return from.Family == AddressFamily.InterNetwork
            ? got.Slice(2, 6).SequenceEqual(want.Slice(2, 6))
            : got.Slice(2, 2).SequenceEqual(want.Slice(2, 2)) && got.Slice(8, 16).SequenceEqual(want.Slice(8, 16));
    }
}
