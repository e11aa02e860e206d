using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Transport;

/// <summary>How one heartbeat to a peer goes (<see cref="DatagramRoute.Choose"/>).</summary>
internal enum DatagramChoice
{
    /// <summary>On the heartbeat stream only.</summary>
    Stream,

    /// <summary>As one UDP datagram only.</summary>
    Datagram,

    /// <summary>On the stream, and a copy asking an answer as a datagram: does the path carry datagrams both ways?</summary>
    StreamAndProbe,
}

/// <summary>
/// Whether heartbeats to one peer on one LAN go as datagrams (<see cref="HeartbeatDatagrams"/>) or on the heartbeat
/// stream, and the datagrams sent that wait for an answer. A route starts on the stream and sends a probe (a copy of a
/// heartbeat, asking an answer) every <see cref="ProbeEvery"/>; an answer proves that datagrams pass both ways and that
/// the peer serves them (a release without datagrams, or a firewall that drops them, never answers), and from then on
/// every heartbeat goes as a datagram. The stream the heartbeats went on before stays open, idle: its close when the
/// peer's process dies is the crash fast path. No heartbeat goes on the stream meanwhile (except one too long for a
/// datagram): one on the slower path would reach the peer after later ones. A datagram that asked an answer
/// and got none within <see cref="Patience"/> sends the route back to the stream (probing again after
/// <see cref="ProbeEvery"/>): a path that stops carrying datagrams costs at most that long.
/// </summary>
/// <remarks>Thread-safe: the heartbeat thread chooses and sends, the datagram receive thread matches answers.</remarks>
internal sealed class DatagramRoute
{
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private readonly List<Waiting> waiting = []; // datagrams that asked an answer, in seq order
    private bool confirmed;
    private long? lastProbe;
    private long confirmedFor; // the peer's run the answers that put the route on datagrams came from

    /// <param name="time">The transport's clock.</param>
    /// <param name="patience">How long an answer to a datagram may take before the route goes back to the stream.</param>
    /// <param name="probeEvery">How often a route on the stream probes.</param>
    public DatagramRoute(TimeProvider time, TimeSpan patience, TimeSpan probeEvery)
    {
        this.time = time ?? throw new ArgumentNullException(nameof(time));
        Patience = patience;
        ProbeEvery = probeEvery;
    }

    public TimeSpan Patience { get; }

    public TimeSpan ProbeEvery { get; }

    /// <summary>True while heartbeats go as datagrams.</summary>
    public bool OnDatagrams
    {
        get
        {
            lock (gate)
            {
                return confirmed;
            }
        }
    }

    /// <summary>Times the route went back to the stream because a datagram went unanswered.</summary>
    public long Fallbacks { get; private set; }

    /// <summary>Times a probe's answer put the route on datagrams.</summary>
    public long Confirmations { get; private set; }

    /// <summary>
    /// How the next heartbeat goes; a fallback (a datagram unanswered for <see cref="Patience"/>) happens here, and so
    /// does a new start on the stream when the peer runs a new process (<paramref name="peerRun"/>, its incarnation as
    /// this node knows it): that process may be a release without datagrams (a rolling downgrade), and it has to prove
    /// it serves them before it depends on them.
    /// </summary>
    /// <param name="peerRun">The peer's run (incarnation) heartbeats are sealed for now.</param>
    /// <param name="fellBack">True when this call ended the datagram period (the caller logs it).</param>
    public DatagramChoice Choose(long peerRun, out bool fellBack)
    {
        fellBack = false;
        lock (gate)
        {
            long now = time.GetTimestamp();
            if (confirmed && peerRun != confirmedFor)
            {
                confirmed = false;
                waiting.Clear();
                lastProbe = null; // probe the new run at once
            }

            if (waiting.Count > 0 && time.GetElapsedTime(waiting[0].At, now) > Patience)
            {
                waiting.Clear();
                if (confirmed)
                {
                    confirmed = false;
                    fellBack = true;
                    Fallbacks++;
                    lastProbe = now; // the next probe one ProbeEvery from now: a path that drops datagrams costs little
                }
            }

            if (confirmed)
            {
                return DatagramChoice.Datagram;
            }

            if (lastProbe is not { } p || time.GetElapsedTime(p, now) >= ProbeEvery)
            {
                lastProbe = now;
                return DatagramChoice.StreamAndProbe;
            }

            return DatagramChoice.Stream;
        }
    }

    /// <summary>Notes a datagram sent sealed as <paramref name="sealedRequest"/> (for the peer's run it names) that asks an answer.</summary>
    public void Sent(OutboundRequest request, Wire.Envelope sealedRequest)
    {
        ArgumentNullException.ThrowIfNull(sealedRequest);
        lock (gate)
        {
            waiting.Add(new Waiting(request, sealedRequest, time.GetTimestamp()));
        }
    }

    /// <summary>The datagram <paramref name="replyTo"/> answers, if it still waits (else null).</summary>
    public Waiting? Find(ulong replyTo)
    {
        lock (gate)
        {
            foreach (var w in waiting)
            {
                if (w.Sealed.Seq == replyTo)
                {
                    return w;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// An authentic answer to <paramref name="answered"/> came: the route is on datagrams from now on, and the datagrams
    /// sent before it (their answers lost on the way) wait no longer. False when it no longer waited (answered twice).
    /// </summary>
    public bool Answered(Waiting answered)
    {
        ArgumentNullException.ThrowIfNull(answered);
        lock (gate)
        {
            int index = waiting.IndexOf(answered);
            if (index < 0)
            {
                return false;
            }

            waiting.RemoveRange(0, index + 1);
            if (!confirmed)
            {
                confirmed = true;
                confirmedFor = answered.Sealed.RecipientIncarnation;
                Confirmations++;
            }

            return true;
        }
    }

    /// <summary>A datagram that waits for its answer.</summary>
    internal sealed record Waiting(OutboundRequest Request, Wire.Envelope Sealed, long At);
}
