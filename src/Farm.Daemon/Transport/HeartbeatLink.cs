using System.Threading.Channels;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Transport;

/// <summary>
/// The heartbeats to one peer on one LAN, on one long-lived <c>HeartbeatStream</c> call instead of a unary call each:
/// an HTTP/2 DATA frame per heartbeat and per answer instead of a new stream with its headers, which is most of an idle
/// farm's CPU. Every item is sealed and opened exactly like a unary heartbeat (<see cref="PeerTransport.Seal"/>,
/// <see cref="PeerTransport.Complete"/>); the peer answers items in order, all but the quiet ones it served
/// (<see cref="HeartbeatRequest.Quiet"/>; a peer of an older release answers those too), so an answer is matched to the
/// heartbeat its <c>reply_to</c> names and the quiet ones before it are done. The manager's own timeouts still decide
/// failures: a stream that breaks or stops answering only makes its unanswered heartbeats fail now, and the next
/// heartbeat opens a new stream.
/// </summary>
/// <remarks>
/// A peer that does not serve the method (an older farmd: UNIMPLEMENTED) gets unary heartbeats for
/// <see cref="UnsupportedRetry"/>, then the stream is tried again. Sends never block the caller (the heartbeat thread):
/// items go through a bounded queue (when it is full the caller sends a unary call instead) and are written by whoever
/// finds no write in flight: the heartbeat thread itself (sealing and handing the frame to the HTTP/2 connection take
/// microseconds and never wait), else the completion of the write before. No thread is woken only to write a
/// heartbeat: an idle farm's CPU is mostly such hand-offs (docs/performance.md).
/// </remarks>
internal sealed partial class HeartbeatLink : IDisposable
{
    /// <summary>How long a peer that answered UNIMPLEMENTED is sent unary heartbeats before the stream is tried again.</summary>
    public static readonly TimeSpan UnsupportedRetry = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeats that may wait for the writer; beyond that the caller falls back to a unary call.</summary>
    public const int QueueCapacity = 64;

    private readonly PeerTransport transport;
    private readonly Wire.Membership.MembershipClient client;
    private readonly string peer;
    private readonly int lan;
    private readonly ConnectionTracker? connection;
    private readonly Channel<OutboundRequest> queue = Channel.CreateBounded<OutboundRequest>(
        new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
    private readonly Queue<Sent> awaiting = new(); // sent, in seq order, until answered or passed; under awaitingLock
    private readonly Lock awaitingLock = new();
    private CancellationTokenSource? current;
    private Live? live; // the stream heartbeats are written to, null between streams
    private int pumping; // 1 while someone writes (or a write is in flight): only that one reads the queue
    private long unsupportedAt;
    private int unsupported;
    private int started;

    public HeartbeatLink(PeerTransport transport, Wire.Membership.MembershipClient client, string peer, int lan, ConnectionTracker? connection = null)
    {
        this.transport = transport;
        this.client = client;
        this.peer = peer;
        this.lan = lan;
        this.connection = connection;
    }

    /// <summary>Queues a heartbeat on the stream; false when it must go as a unary call (peer without the method, queue full).</summary>
    public bool TrySend(OutboundRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Volatile.Read(ref unsupported) != 0)
        {
            if (transport.Elapsed(Volatile.Read(ref unsupportedAt)) < UnsupportedRetry)
            {
                return false;
            }

            Volatile.Write(ref unsupported, 0);
        }

        // A stream whose oldest heartbeat that asked an answer went unanswered too long is stuck (peer stopped,
        // connection dead): start over, on a new TCP connection. The old one may be in TCP's retransmission back-off
        // (packets dropped by a partition or a cut link), where it would keep every call waiting for up to seconds
        // after the path is back (ConnectionTracker).
        if (OldestAskingAnswer() is { } oldest && transport.Elapsed(oldest) > transport.StreamPatience)
        {
            Abort();
            ResetConnectionOffThread();
        }

        if (Interlocked.Exchange(ref started, 1) == 0)
        {
            _ = Task.Run(RunAsync);
        }

        if (!queue.Writer.TryWrite(request))
        {
            return false;
        }

        Pump();
        return true;
    }

    public void Dispose()
    {
        queue.Writer.TryComplete();
        Abort();
    }

    private void Abort()
    {
        if (Volatile.Read(ref current) is { } cts)
        {
            CancelOffThread(cts);
        }
    }

    /// <summary>Drops the TCP connection on the teardown thread: closing a socket completes its pending reads and writes, whose callbacks must run neither on the heartbeat thread nor on the pool (<see cref="TeardownThread"/>).</summary>
    private void ResetConnectionOffThread()
    {
        if (connection is null)
        {
            return;
        }

        transport.Teardown.Post(
            static link =>
            {
                if (link.connection!.Reset())
                {
                    Log.ConnectionReset(link.transport.Logger, link.peer, link.lan, link.transport.StreamPatience.TotalMilliseconds);
                }
            },
            this);
    }

    /// <summary>Cancels a stream's token on the teardown thread: cancelling resets the HTTP/2 stream, whose callbacks must run neither on the heartbeat thread nor on the pool.</summary>
    private void CancelOffThread(CancellationTokenSource cts) =>
        transport.Teardown.Post(static c => { try { c.Cancel(); } catch (ObjectDisposedException) { } }, cts);

    private async Task RunAsync()
    {
        var shutdown = transport.ShuttingDown;
        while (!shutdown.IsCancellationRequested)
        {
            try
            {
                // A stream opens when there is something to send.
                if (!await queue.Reader.WaitToReadAsync(shutdown).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Status status;
            try
            {
                status = await RunStreamAsync(shutdown).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug here must not end the link for good (heartbeats would then pile up in the queue): start over.
                Log.ReadCrashed(transport.Logger, peer, lan, e);
                status = new Status(StatusCode.Internal, e.Message);
            }

            if (status.StatusCode == StatusCode.Unimplemented)
            {
                Volatile.Write(ref unsupportedAt, transport.Timestamp());
                Volatile.Write(ref unsupported, 1);
                Log.Unsupported(transport.Logger, peer, lan, UnsupportedRetry.TotalSeconds);
            }

            // What waits in the queue goes with the next tick's heartbeats, not on a stream opened again at once: a
            // stream that fails before it writes must not spin (each attempt waits for a new heartbeat).
            while (queue.Reader.TryRead(out var queued))
            {
                transport.Fail(queued, status.StatusCode, "the heartbeat stream ended before it was sent");
            }

            // Whatever was sent and not answered will not be: the manager hears it now rather than at its timeout.
            foreach (var lost in TakeAll())
            {
                transport.Fail(lost.Request, status.StatusCode, status.Detail);
            }

            // The connection itself failed (not our own abort of a stuck stream, not a refusal by a live peer): is the
            // peer's process gone? The crash fast path; see PeerTransport.ProbeGoneAsync.
            if (status.StatusCode == StatusCode.Unavailable && !shutdown.IsCancellationRequested)
            {
                await transport.ProbeGoneAsync(peer, lan).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One stream: lives until its reader ends (the peer failed or refused, a write failed, an abort, the transport stops).</summary>
    private async Task<Status> RunStreamAsync(CancellationToken shutdown)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        Volatile.Write(ref current, cts);
        AsyncDuplexStreamingCall<Wire.Envelope, Wire.Envelope>? call = null;
        Live? stream = null;
        var read = new Status(StatusCode.Unavailable, "heartbeat stream ended");
        try
        {
            call = client.HeartbeatStream(new CallOptions(cancellationToken: cts.Token));
            var reading = ReadAsync(call, cts);
            stream = new Live(this, call, cts);
            Volatile.Write(ref live, stream);
            Pump(); // what waits in the queue (at least the heartbeat that opened the stream)
            read = await reading.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            read = e.Status;
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            read = new Status(StatusCode.Cancelled, e.Message);
        }

        Volatile.Write(ref live, null);
        Volatile.Write(ref current, null);
        await cts.CancelAsync().ConfigureAwait(false);
        call?.Dispose();

        // Why the call ended: UNIMPLEMENTED from either side, else the reader's status (the peer's), else the writer's.
        var written = stream?.WriteFailure ?? new Status(StatusCode.Unavailable, "heartbeat stream ended");
        return written.StatusCode == StatusCode.Unimplemented || read.StatusCode is StatusCode.OK or StatusCode.Cancelled ? written : read;
    }

    /// <summary>
    /// Writes queued heartbeats to the live stream unless a write is in flight (its completion writes the next). Runs on
    /// the heartbeat thread (from <see cref="TrySend"/>), on the stream's start, and on a write's completion.
    /// </summary>
    private void Pump()
    {
        while (Interlocked.CompareExchange(ref pumping, 1, 0) == 0)
        {
            if (!WriteQueued())
            {
                return; // a write is in flight: its completion goes on
            }

            Volatile.Write(ref pumping, 0);

            // A heartbeat queued after the last read but before the release would wait for the next one: look again.
            if (Volatile.Read(ref live) is null || !queue.Reader.TryPeek(out _))
            {
                return;
            }
        }
    }

    /// <summary>Writes from the queue while writes complete at once; false when one is in flight (it keeps <see cref="pumping"/>).</summary>
    private bool WriteQueued()
    {
        if (Volatile.Read(ref live) is not { } stream)
        {
            return true;
        }

        while (queue.Reader.TryRead(out var next))
        {
            Task write;
            try
            {
                var sealedRequest = transport.Seal(next);
                lock (awaitingLock)
                {
                    awaiting.Enqueue(new Sent(next, sealedRequest, transport.Timestamp()));
                }

                write = stream.Call.RequestStream.WriteAsync(sealedRequest, stream.Cts.Token);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                stream.Fail(e);
                return true;
            }

            if (!write.IsCompleted)
            {
                write.ContinueWith(
                    static (t, state) => ((HeartbeatLink)state!).Written(t), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return false;
            }

            if (!write.IsCompletedSuccessfully)
            {
                stream.Fail(write.Exception?.InnerException);
                return true;
            }
        }

        return true;
    }

    /// <summary>A write that was in flight completed (on the HTTP/2 connection's thread): note a failure, write what waits.</summary>
    private void Written(Task write)
    {
        if (!write.IsCompletedSuccessfully)
        {
            Volatile.Read(ref live)?.Fail(write.Exception?.InnerException);
        }

        Volatile.Write(ref pumping, 0);
        Pump();
    }

    /// <summary>Hands each answer to the transport, matched to the heartbeat it names; ends the stream on any failure.</summary>
    private async Task<Status> ReadAsync(AsyncDuplexStreamingCall<Wire.Envelope, Wire.Envelope> call, CancellationTokenSource cts)
    {
        await Task.Yield();
        var status = new Status(StatusCode.Unavailable, "the peer ended the heartbeat stream");
        try
        {
            while (await call.ResponseStream.MoveNext(cts.Token).ConfigureAwait(false))
            {
                var answer = call.ResponseStream.Current;
                var (sent, skipped) = Match(answer.ReplyTo);
                foreach (var lost in skipped)
                {
                    transport.Fail(lost.Request, StatusCode.Internal, "the peer answered a later heartbeat and not this one");
                }

                if (sent is not { } matched)
                {
                    status = new Status(StatusCode.Internal, "an answer to no heartbeat");
                    break;
                }

                transport.Complete(matched.Request, matched.Sealed, answer, matched.At);
            }
        }
        catch (RpcException e)
        {
            status = e.Status;
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            status = new Status(StatusCode.Cancelled, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.ReadCrashed(transport.Logger, peer, lan, e);
            status = new Status(StatusCode.Internal, e.Message);
        }

        await cts.CancelAsync().ConfigureAwait(false); // stops the writer too
        return status;
    }

    /// <summary>
    /// Takes the heartbeat <paramref name="replyTo"/> names off the queue with every one sent before it: the quiet ones
    /// among those need no answer, the others (<c>Skipped</c>) will get none. Null when no heartbeat waiting has that seq.
    /// </summary>
    private (Sent? Answered, IReadOnlyList<Sent> Skipped) Match(ulong replyTo)
    {
        List<Sent>? skipped = null;
        lock (awaitingLock)
        {
            while (awaiting.TryPeek(out var head) && head.Sealed.Seq <= replyTo)
            {
                awaiting.Dequeue();
                if (head.Sealed.Seq == replyTo)
                {
                    return (head, (IReadOnlyList<Sent>?)skipped ?? []);
                }

                if (!head.Quiet)
                {
                    (skipped ??= []).Add(head);
                }
            }
        }

        return (null, (IReadOnlyList<Sent>?)skipped ?? []);
    }

    /// <summary>When the oldest heartbeat waiting for an answer that asked one was sent (a transport timestamp), or null.</summary>
    private long? OldestAskingAnswer()
    {
        lock (awaitingLock)
        {
            foreach (var sent in awaiting)
            {
                if (!sent.Quiet)
                {
                    return sent.At;
                }
            }
        }

        return null;
    }

    private List<Sent> TakeAll()
    {
        lock (awaitingLock)
        {
            var all = new List<Sent>(awaiting);
            awaiting.Clear();
            return all;
        }
    }

    /// <summary>The live stream and why its writes failed, if they did.</summary>
    private sealed class Live(HeartbeatLink link, AsyncDuplexStreamingCall<Wire.Envelope, Wire.Envelope> call, CancellationTokenSource cts)
    {
        private readonly Lock gate = new();
        private Status? writeFailure;

        public AsyncDuplexStreamingCall<Wire.Envelope, Wire.Envelope> Call { get; } = call;

        public CancellationTokenSource Cts { get; } = cts;

        public Status? WriteFailure
        {
            get
            {
                lock (gate)
                {
                    return writeFailure;
                }
            }
        }

        /// <summary>A write failed: the stream ends (its reader is cancelled, off this thread) with that reason.</summary>
        public void Fail(Exception? e)
        {
            lock (gate)
            {
                writeFailure ??= e is RpcException r ? r.Status : new Status(StatusCode.Cancelled, e?.Message ?? "write cancelled");
            }

            link.CancelOffThread(Cts);
        }
    }

    private readonly record struct Sent(OutboundRequest Request, Wire.Envelope Sealed, long At)
    {
        /// <summary>A quiet heartbeat: no answer is expected (a peer of an older release sends one all the same).</summary>
        public bool Quiet => Request.Message is HeartbeatRequest { Quiet: true };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 305, Level = LogLevel.Information,
            Message = "{Peer} serves no heartbeat stream on LAN {Lan} (an older farmd): heartbeats go as unary calls; trying the stream again in {Seconds} s")]
        public static partial void Unsupported(ILogger logger, string peer, int lan, double seconds);

        [LoggerMessage(EventId = 306, Level = LogLevel.Error, Message = "The heartbeat stream to {Peer} on LAN {Lan} failed unexpectedly; starting it over")]
        public static partial void ReadCrashed(ILogger logger, string peer, int lan, Exception exception);

        [LoggerMessage(EventId = 308, Level = LogLevel.Debug, Message = "{Peer} on LAN {Lan} answered no heartbeat for {Ms} ms: dropped the TCP connection, the next heartbeat opens a new one")]
        public static partial void ConnectionReset(ILogger logger, string peer, int lan, double ms);
    }
}
