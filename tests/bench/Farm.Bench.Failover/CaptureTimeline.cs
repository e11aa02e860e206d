namespace Farm.Bench.Failover;

/// <summary>
/// The captured SYNs, SYN-ACKs and answers (the apps' names) on the load's clock (monotonic timestamps of its
/// <see cref="TimeProvider"/>), per client and for all clients: to tell, when clients' attempts fail, whether their SYNs
/// left the client namespace and whether SYN-ACKs (a node's kernel) and names (its app) came back to it, and from which
/// node, although the sockets saw no answer.
/// </summary>
/// <remarks>
/// The capture runs on the client namespace's own interface: a SYN there was sent by the client's kernel, a SYN-ACK or
/// name there was received by it (before its TCP stack and the load's sockets handle it; whether they did is not seen).
/// A SYN-ACK or name belongs to the attempt whose SYN it acknowledges (client, port, the client's ISN + 1).
/// </remarks>
internal sealed class CaptureTimeline
{
    private readonly Frame[][] byClient;
    private readonly long lifetimeTicks;

    private CaptureTimeline(Frame[][] byClient, long lifetimeTicks)
    {
        this.byClient = byClient;
        this.lifetimeTicks = lifetimeTicks;
    }

    private enum FrameKind : byte
    {
        Syn,
        SynAck,
        Name,
    }

    /// <summary>Longest time between two consecutive SYN-ACKs to any client (ticks), and when it began.</summary>
    public (long Length, long From) LongestSynAckGap { get; private init; }

    /// <summary>Longest time between two consecutive SYNs of any client (ticks), and when it began.</summary>
    public (long Length, long From) LongestSynGap { get; private init; }

    /// <summary>Longest time from an attempt's SYN to its first SYN-ACK (ticks: the node's kernel and the way there and back), and when the SYN was sent.</summary>
    public (long Length, long From) LongestSynToSynAck { get; private init; }

    /// <summary>Longest time from an attempt's first SYN-ACK to its name (ticks: the node's app accepting and answering), and when the SYN-ACK came.</summary>
    public (long Length, long From) LongestSynAckToName { get; private init; }

    /// <summary>Sorts the frames of <paramref name="sources"/> by client and time, on the load's clock.</summary>
    /// <param name="frames">The capture.</param>
    /// <param name="sources">The client addresses (index = client).</param>
    /// <param name="microsToTicks">Capture time (µs since the Unix epoch) → the load's timestamp.</param>
    /// <param name="attemptTimeout">A SYN-ACK or name within this time of its SYN answers a live attempt.</param>
    /// <param name="ticksPerSecond">The load's timestamp frequency.</param>
    public static CaptureTimeline Build(List<SynAck> frames, IPAddress[] sources, Func<long, long> microsToTicks, TimeSpan attemptTimeout, long ticksPerSecond)
    {
        var indexOf = new Dictionary<uint, int>();
        for (int c = 0; c < sources.Length; c++)
        {
            indexOf[BinaryPrimitives.ReadUInt32BigEndian(sources[c].GetAddressBytes())] = c;
        }

        long lifetime = (long)(attemptTimeout.TotalSeconds * ticksPerSecond);
        var synAt = new Dictionary<(uint, ushort, uint), long>();
        var synAckAt = new Dictionary<(uint, ushort, uint), long>();
        var named = new HashSet<(uint, ushort, uint)>();
        (long Length, long From) toSynAck = (0, 0);
        (long Length, long From) toName = (0, 0);
        var lists = new List<Frame>[sources.Length];
        for (int c = 0; c < lists.Length; c++)
        {
            lists[c] = [];
        }

        var synAckTimes = new List<long>();
        var synTimes = new List<long>();
        foreach (var s in frames.OrderBy(s => s.Micros))
        {
            long at = microsToTicks(s.Micros);
            var key = (s.Client, s.Port, s.Ack);
            long sentAt = long.MinValue;
            var kind = s.IsSyn ? FrameKind.Syn : s.IsName ? FrameKind.Name : FrameKind.SynAck;
            if (s.IsSyn)
            {
                synAt[key] = sentAt = at;
                synTimes.Add(at);
            }
            else
            {
                bool known = synAt.TryGetValue(key, out sentAt);
                sentAt = known ? sentAt : long.MinValue;
                if (s.IsSynAck)
                {
                    synAckTimes.Add(at);
                    if (known && synAckAt.TryAdd(key, at) && at - sentAt > toSynAck.Length)
                    {
                        toSynAck = (at - sentAt, sentAt);
                    }
                }
                else if (synAckAt.TryGetValue(key, out long acceptedAt) && named.Add(key) && at - acceptedAt > toName.Length)
                {
                    toName = (at - acceptedAt, acceptedAt);
                }
            }

            if (indexOf.TryGetValue(s.Client, out int client))
            {
                lists[client].Add(new Frame(at, sentAt, s.Node, kind));
            }
        }

        return new CaptureTimeline([.. lists.Select(l => l.ToArray())], lifetime)
        {
            LongestSynAckGap = LongestGap(synAckTimes),
            LongestSynGap = LongestGap(synTimes),
            LongestSynToSynAck = toSynAck,
            LongestSynAckToName = toName,
        };
    }

    /// <summary>Longest time between two consecutive values of ascending <paramref name="times"/>, and where it began; (0, 0) for fewer than two.</summary>
    public static (long Length, long From) LongestGap(IEnumerable<long> times)
    {
        long length = 0;
        long from = 0;
        long? previous = null;
        foreach (long t in times)
        {
            if (previous is { } p && t - p > length)
            {
                length = t - p;
                from = p;
            }

            previous = t;
        }

        return (length, from);
    }

    /// <summary>
    /// The longest run of <paramref name="client"/>'s attempts whose SYN left after <paramref name="from"/> and got no
    /// answer within the attempt timeout, as seen on the client namespace's wire. The answer is the SYN-ACK when
    /// <paramref name="kernelOnly"/> (the node's kernel accepted the flow: the farm's part) and otherwise the name (the
    /// node's app answered too). Apart from how late the load's own sockets handled what came.
    /// <c>Proven</c>: from the run's first SYN to its last (both unanswered: the nodes were dark at both moments).
    /// <c>Upper</c>: from its first SYN to the next SYN that was answered in time (or to <paramref name="to"/>): when the
    /// load generator asks rarely (it falls behind on a saturated machine) one dropped SYN makes a long upper bound.
    /// Ticks; (0, 0) when every SYN was answered.
    /// </summary>
    public (long Proven, long Upper) LongestUnansweredRun(int client, long from, long to, bool kernelOnly)
    {
        var frames = byClient[client];
        var answer = kernelOnly ? FrameKind.SynAck : FrameKind.Name;
        var answeredSyns = new HashSet<long>();
        foreach (var f in frames)
        {
            if (f.Kind == answer && f.SynAt != long.MinValue && f.At - f.SynAt <= lifetimeTicks)
            {
                answeredSyns.Add(f.SynAt);
            }
        }

        long proven = 0;
        long upper = 0;
        long? runFrom = null;
        long runLast = 0;
        foreach (var f in frames)
        {
            if (f.Kind != FrameKind.Syn || f.At <= from || f.At >= to)
            {
                continue;
            }

            if (!answeredSyns.Contains(f.At))
            {
                runFrom ??= f.At;
                runLast = f.At;
            }
            else if (runFrom is { } r)
            {
                proven = Math.Max(proven, runLast - r);
                upper = Math.Max(upper, f.At - r);
                runFrom = null;
            }
        }

        if (runFrom is { } open)
        {
            proven = Math.Max(proven, runLast - open);
            upper = Math.Max(upper, to - open);
        }

        return (proven, upper);
    }

    /// <summary>
    /// Adds one window [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="client"/> to
    /// <paramref name="counts"/>: the SYNs sent in it, the SYN-ACKs and names that answer them (whenever they came), and
    /// every SYN-ACK that came in it (for whichever attempt).
    /// </summary>
    public void Count(int client, long from, long to, WindowCounts counts)
    {
        var list = byClient[client];
        int lo = 0;
        int hi = list.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (list[mid].At < from)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        bool answered = false;
        for (int i = lo; i < list.Length && list[i].At < to + lifetimeTicks; i++)
        {
            var f = list[i];
            bool inWindow = f.At < to;
            bool ours = f.SynAt >= from && f.SynAt < to;
            bool live = f.At - f.SynAt <= lifetimeTicks;
            switch (f.Kind)
            {
                case FrameKind.Syn:
                    counts.Syns += inWindow ? 1 : 0;
                    break;
                case FrameKind.Name when ours:
                    counts.Names++;
                    counts.LiveNames += live ? 1 : 0;
                    break;
                case FrameKind.SynAck:
                    counts.AnySynAcks += inWindow ? 1 : 0;
                    if (!ours)
                    {
                        break;
                    }

                    answered = true;
                    counts.SynAcks++;
                    counts.LiveSynAcks += live ? 1 : 0;
                    if (f.Node >= 0 && f.Node < counts.ByNode.Length)
                    {
                        counts.ByNode[f.Node]++;
                    }
                    else
                    {
                        counts.UnknownMac++;
                    }

                    break;
            }
        }

        counts.Windows++;
        counts.WindowsWithSynAck += answered ? 1 : 0;
    }

    /// <summary>Frames captured for a set of time windows of clients (<see cref="Count"/> adds one window).</summary>
    internal sealed class WindowCounts(int nodeCount)
    {
        public int Windows { get; set; }

        /// <summary>Windows with a SYN-ACK answering one of their SYNs.</summary>
        public int WindowsWithSynAck { get; set; }

        /// <summary>The clients' SYNs sent in the windows.</summary>
        public int Syns { get; set; }

        /// <summary>SYN-ACKs answering those SYNs.</summary>
        public int SynAcks { get; set; }

        /// <summary>Of them, within the attempt timeout of their SYN (the others came too late, or are retransmissions).</summary>
        public int LiveSynAcks { get; set; }

        /// <summary>Those SYN-ACKs by the node whose MAC sent them.</summary>
        public int[] ByNode { get; } = new int[nodeCount];

        public int UnknownMac { get; set; }

        /// <summary>Answers (segments with data) from the nodes' apps to those SYNs' connections.</summary>
        public int Names { get; set; }

        /// <summary>Of them, within the attempt timeout of their SYN.</summary>
        public int LiveNames { get; set; }

        /// <summary>Every SYN-ACK that came to the clients during the windows, for whichever attempt.</summary>
        public int AnySynAcks { get; set; }
    }

    /// <param name="At">When it was captured.</param>
    /// <param name="SynAt">When the SYN of its attempt was captured (the SYN itself: <paramref name="At"/>), or <see cref="long.MinValue"/> if not.</param>
    /// <param name="Node">The node whose MAC sent it, or -1.</param>
    /// <param name="Kind">SYN, SYN-ACK or name.</param>
    private readonly record struct Frame(long At, long SynAt, sbyte Node, FrameKind Kind);
}
