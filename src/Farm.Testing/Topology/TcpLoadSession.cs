namespace Farm.Testing.Topology;

/// <summary>
/// One long-lived TCP connection: the greeting names the accepting node; then one small message per interval, never a
/// second one before the first is answered (the server answers once per chunk, so two unanswered messages could merge
/// into one answer and every later answer would be misattributed).
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class TcpLoadSession(int index, IPEndPoint source, IPEndPoint target, Socket socket, SessionLoadContext context)
    : LoadSession(index, source, target, socket, context)
{
    private static readonly ReadOnlyMemory<byte> Message = "m\n"u8.ToArray();
    private readonly byte[] buffer = new byte[128];
    private long connectStartedAt;
    private long sentAt;
    private bool timeoutCounted;

    protected override SessionProtocol Protocol => SessionProtocol.Tcp;

    protected override bool Step(long now)
    {
        switch (State)
        {
            case SessionState.Pending:
                State = SessionState.Connecting;
                connectStartedAt = now;
                Begin(now);
                return true;
            case SessionState.Connecting when now - connectStartedAt > Context.ConnectTimeoutTicks:
                End(SessionState.Failed, now, $"no greeting within {Context.Options.ConnectTimeout.TotalSeconds:0.###} s of the connect");
                break;
            case SessionState.Open when sentAt == 0:
                Send(now);
                break;
            case SessionState.Open when !timeoutCounted && now - sentAt > Context.AnswerTimeoutTicks:
                Timeouts++;
                timeoutCounted = true;
                break;
            case SessionState.Closing when now - CloseRequestedAt > Context.CloseTimeoutTicks:
                End(SessionState.Closed, now, $"the peer did not close within {Context.Options.CloseTimeout.TotalSeconds:0.###} s");
                break;
        }

        return false;
    }

    protected override void OnCloseRequested(long now)
    {
        try
        {
            // Our FIN; the server answers what it still reads, sees the end of stream and closes its side.
            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException e)
        {
            End(SessionState.Reset, now, "while closing: " + Describe(e));
        }
    }

    // Under the lock, so a close never shuts the socket down between deciding to send and sending.
    private void Send(long now)
    {
        sentAt = now;
        timeoutCounted = false;
        try
        {
            var sending = Socket.SendAsync(Message, SocketFlags.None);
            if (sending.IsCompleted)
            {
                sending.GetAwaiter().GetResult();
            }
            else
            {
                _ = ObserveSendAsync(sending);
            }
        }
        catch (SocketException e)
        {
            Broken(e, now);
        }
    }

    private async Task ObserveSendAsync(ValueTask<int> sending)
    {
        try
        {
            await sending;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            lock (Gate)
            {
                Broken(e, Context.Now());
            }
        }
    }

    protected override async Task RunAsync()
    {
        try
        {
            await Socket.ConnectAsync(Target);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            lock (Gate)
            {
                if (!IsOver)
                {
                    End(SessionState.Failed, Context.Now(), "connect: " + Describe(e));
                }
            }

            return;
        }

        lock (Gate)
        {
            if (IsOver)
            {
                return;
            }

            SetLocalEndPoint(Socket.LocalEndPoint);
        }

        int buffered = 0;
        while (true)
        {
            int received;
            try
            {
                received = await Socket.ReceiveAsync(buffer.AsMemory(buffered), SocketFlags.None);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                lock (Gate)
                {
                    Broken(e, Context.Now());
                }

                return;
            }

            long now = Context.Now();
            lock (Gate)
            {
                if (IsOver)
                {
                    return;
                }

                if (received == 0)
                {
                    PeerClosed(now);
                    return;
                }

                buffered = Lines(buffered + received, now);
                if (IsOver)
                {
                    return;
                }
            }
        }
    }

    // Handles every complete line of the buffer; returns the length of the incomplete rest, moved to the front.
    private int Lines(int length, long now)
    {
        int start = 0;
        int newline;
        while ((newline = buffer.AsSpan(start, length - start).IndexOf((byte)'\n')) >= 0)
        {
            Line(buffer.AsSpan(start, newline), now);
            start += newline + 1;
        }

        int rest = length - start;
        if (rest == buffer.Length)
        {
            End(SessionState.Failed, now, $"an answer longer than {buffer.Length} bytes");
            return 0;
        }

        buffer.AsSpan(start, rest).CopyTo(buffer);
        return rest;
    }

    private void Line(ReadOnlySpan<byte> name, long now)
    {
        if (State == SessionState.Connecting)
        {
            // The greeting: who accepted the connection.
            SeeNode(name);
            SetConnectTime(now - connectStartedAt);
            Gap(now);
            State = SessionState.Open;
            return;
        }

        SeeNode(name); // another name is recorded there: the node changed under the connection
        if (sentAt != 0)
        {
            Answer(sentAt, now);
            sentAt = 0;
        }
        else
        {
            DuplicateAnswers++;
        }
    }

    private void PeerClosed(long now)
    {
        switch (State)
        {
            case SessionState.Closing:
                End(SessionState.Closed, now, null);
                break;
            case SessionState.Connecting:
                End(SessionState.Failed, now, "end of stream before the greeting");
                break;
            default:
                End(SessionState.Reset, now, "end of stream");
                break;
        }
    }

    // A socket error (reset, broken pipe, ...) or the socket closed under us.
    private void Broken(Exception exception, long now)
    {
        switch (State)
        {
            case SessionState.Closed or SessionState.Reset or SessionState.Failed or SessionState.Stopped:
                return;
            case SessionState.Connecting:
                End(SessionState.Failed, now, Describe(exception));
                break;
            case SessionState.Closing:
                End(SessionState.Reset, now, "while closing: " + Describe(exception));
                break;
            default:
                End(SessionState.Reset, now, Describe(exception));
                break;
        }
    }
}
