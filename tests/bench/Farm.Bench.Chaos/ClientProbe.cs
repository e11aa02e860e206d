namespace Farm.Bench.Chaos;

/// <summary>
/// The soak's client load: every <see cref="Period"/>, every client asks the farm once through
/// <see cref="FarmClients"/>: a new TCP connection to 8080 (client_ip) and to 8081 (client_ip_port, an ephemeral source
/// port each time) and a datagram to UDP 5353, from each IPv4 and IPv6 source of the client namespace. A client is one
/// (source address, port) pair; for each it keeps when each ask was started (on the soak's clock) and, if answered, by whom.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ClientProbe : IAsyncDisposable
{
    /// <summary>How often every client asks.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    /// <summary>How long an ask waits for its answer.</summary>
    public static readonly TimeSpan AskTimeout = TimeSpan.FromMilliseconds(300);

    private static readonly int[] Ports = [ChaosScenario.TcpPort, ChaosScenario.TcpPortPort, ChaosScenario.UdpPort];

    private readonly NetworkNamespace client;
    private readonly IReadOnlyList<IPEndPoint> sources;
    private readonly Func<TimeSpan> clock;
    private readonly List<Answer>[] answered;
    private readonly List<TimeSpan>[] unanswered;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private long asks;
    private long answers;
    private long skipped;

    private ClientProbe(NetworkNamespace client, IReadOnlyList<IPEndPoint> sources, Func<TimeSpan> clock)
    {
        this.client = client;
        this.sources = sources;
        this.clock = clock;
        answered = [.. Enumerable.Range(0, sources.Count * Ports.Length).Select(_ => new List<Answer>())];
        unanswered = [.. Enumerable.Range(0, answered.Length).Select(_ => new List<TimeSpan>())];
        loop = Task.Run(RunAsync);
    }

    /// <summary>Clients: sources × the three ports.</summary>
    public int Clients => answered.Length;

    public long Asks => Interlocked.Read(ref asks);

    public long Answers => Interlocked.Read(ref answers);

    /// <summary>Rounds that started late by more than a period (the machine could not keep the rate).</summary>
    public long SkippedRounds => Interlocked.Read(ref skipped);

    public static ClientProbe Start(TopologyHost client, Func<TimeSpan> clock) =>
        new(client.Namespace, [.. client.Addresses4.Concat(client.Addresses6).Select(a => new IPEndPoint(a, 0))], clock);

    /// <summary>The name of client <paramref name="index"/>: source and port.</summary>
    public string NameOf(int index) => string.Create(CultureInfo.InvariantCulture, $"{sources[index % sources.Count].Address} → {(Ports[index / sources.Count] == ChaosScenario.UdpPort ? "udp" : "tcp")}/{Ports[index / sources.Count]}");

    /// <summary>The start of the first answered ask of client <paramref name="index"/> started at or after <paramref name="from"/>, or null.</summary>
    public TimeSpan? FirstAnswerFrom(int index, TimeSpan from) => AnswersAround(index, from).After?.Started;

    /// <summary>
    /// How many asks of client <paramref name="index"/> started within [<paramref name="from"/>, <paramref name="to"/>)
    /// got no answer: a client that was not answered late only because the probe made no ask (the soak's process was
    /// descheduled or paused) has none.
    /// </summary>
    public int UnansweredBetween(int index, TimeSpan from, TimeSpan to)
    {
        var list = unanswered[index];
        lock (list)
        {
            return list.Count(t => t >= from && t < to);
        }
    }

    /// <summary>
    /// Client <paramref name="index"/>'s last answered ask started before <paramref name="at"/> and first started at or
    /// after it, with the node that answered each (null when there is none).
    /// </summary>
    public (Answer? Before, Answer? After) AnswersAround(int index, TimeSpan at)
    {
        var list = answered[index];
        Answer? before = null, after = null;
        lock (list)
        {
            // Rounds overlap, so answers are not stored in the order their asks started.
            foreach (var a in list)
            {
                if (a.Started >= at && (after is null || a.Started < after.Value.Started))
                {
                    after = a;
                }
                else if (a.Started < at && (before is null || a.Started > before.Value.Started))
                {
                    before = a;
                }
            }
        }

        return (before, after);
    }

    /// <summary>Per client, the gaps between consecutive answered asks longer than <paramref name="threshold"/>: (client, from, to).</summary>
    public IEnumerable<(int Client, TimeSpan From, TimeSpan To)> Gaps(TimeSpan threshold)
    {
        for (int c = 0; c < answered.Length; c++)
        {
            TimeSpan[] times;
            lock (answered[c])
            {
                times = [.. answered[c].Select(a => a.Started)];
            }

            Array.Sort(times);
            for (int i = 1; i < times.Length; i++)
            {
                if (times[i] - times[i - 1] > threshold)
                {
                    yield return (c, times[i - 1], times[i]);
                }
            }
        }
    }

    /// <summary>An answered ask: when it started (the soak's clock) and the node that answered.</summary>
    public readonly record struct Answer(TimeSpan Started, string Node);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }

    private async Task RunAsync()
    {
        var next = clock();
        while (!stop.IsCancellationRequested)
        {
            var started = clock();
            var asked = Ports.Select(async (port, p) =>
            {
                string?[] names = port == ChaosScenario.UdpPort
                    ? await FarmClients.AskUdpAsync(client, sources, ChaosScenario.Vip4, ChaosScenario.Vip6, port, AskTimeout)
                    : await FarmClients.AskTcpAsync(client, sources, ChaosScenario.Vip4, ChaosScenario.Vip6, port, AskTimeout);
                for (int s = 0; s < names.Length; s++)
                {
                    Interlocked.Increment(ref asks);
                    int index = (p * sources.Count) + s;
                    if (names[s] is not null)
                    {
                        Interlocked.Increment(ref answers);
                        var list = answered[index];
                        lock (list)
                        {
                            list.Add(new Answer(started, names[s]!));
                        }
                    }
                    else
                    {
                        var list = unanswered[index];
                        lock (list)
                        {
                            list.Add(started);
                        }
                    }
                }
            });

            // Rounds overlap when answers are slow: the next round starts on time, not after the slowest ask.
            _ = Task.WhenAll(asked);
            next += Period;
            var now = clock();
            if (now - next > Period)
            {
                Interlocked.Increment(ref skipped);
                next = now;
            }
            else if (next > now)
            {
                await Task.Delay(next - now, TimeProvider.System, stop.Token);
            }
        }
    }
}
