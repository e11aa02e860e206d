using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;

namespace Farm.Cli.Admin;

/// <summary>
/// Seals farmctl's admin queries with the cluster key and checks the sealed replies: MAC for the method and kind, the
/// reply answers our request, a fresh timestamp, a sender that is a node of the cluster (when the cluster file is
/// known), sealed for this run of farmctl, and within a stream one run of one sender with increasing seqs (no replayed or
/// reordered items). Requests name the node that must act and its run, learnt from its first sealed RESEAL refusal.
/// </summary>
internal sealed class AdminEnvelopes
{
    private readonly EnvelopeCodec codec;
    private readonly TimeProvider timeProvider;
    private readonly IReadOnlySet<string>? nodes;
    private ulong lastSeq;
    private string recipient = "";
    private long recipientRun;
    private uint recipientNewest;

    /// <summary>Creates the sealer of one farmctl run; its incarnation is the time now, like farmd's.</summary>
    public AdminEnvelopes(string key, IReadOnlySet<string>? nodes, TimeProvider timeProvider, string? sender = null)
    {
        codec = new EnvelopeCodec(key);
        this.nodes = nodes;
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        Incarnation = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        string name = sender ?? "farmctl@" + Environment.MachineName;
        Sender = name.Length > EnvelopeCodec.MaxNameLength ? name[..EnvelopeCodec.MaxNameLength] : name;
    }

    /// <summary>The sender name in our envelopes (farmd logs it with refusals).</summary>
    public string Sender { get; }

    /// <summary>This run's incarnation.</summary>
    public long Incarnation { get; }

    /// <summary>True once a node answered with its name and run: requests are then sealed for it.</summary>
    public bool KnowsRun => recipientRun != 0;

    /// <summary>Seals <paramref name="query"/> as a request of <paramref name="method"/> with the next seq, for the node's run once known.</summary>
    public Envelope Seal(string method, IMessage query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return codec.Seal(method, EnvelopeKind.Request, new Envelope
        {
            Sender = Sender,
            Incarnation = Incarnation,
            Seq = Interlocked.Increment(ref lastSeq),
            UnixTimeMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds(),
            Recipient = recipient,
            RecipientIncarnation = recipientRun,
            Protocol = ProtocolRange.Current.ToSpeakWith(recipientNewest),
            MaxProtocol = ProtocolRange.Current.Newest,
            Payload = query.ToByteString(),
        });
    }

    /// <summary>
    /// True when <paramref name="reply"/> is an authentic RESEAL refusal: the node's name and run are learnt and the
    /// request must be sealed again. False for any other reply (<see cref="Open{T}"/> checks it). Throws
    /// <see cref="AdminCallException"/> when the node speaks no protocol version farmctl speaks.
    /// </summary>
    public bool LearnRun(string method, EnvelopeKind kind, Envelope? reply, ulong requestSeq, string from)
    {
        if (reply is null || reply.Refusal == Refusal.None)
        {
            return false;
        }

        Check(method, kind, reply, requestSeq, from);
        recipientNewest = reply.MaxProtocol;
        if (reply.Refusal == Refusal.Protocol)
        {
            throw new AdminCallException(
                $"farmd at {from} speaks farm protocol {reply.Protocol}-{reply.MaxProtocol}, this farmctl {ProtocolRange.Current}: use the farmctl of the release installed on that node");
        }

        recipient = reply.Sender;
        recipientRun = reply.Incarnation;
        return true;
    }

    /// <summary>
    /// Checks a sealed reply to the request <paramref name="requestSeq"/> and returns its payload. In a stream pass the
    /// previous item as <paramref name="previous"/>. Throws <see cref="AdminCallException"/> when it is not authentic.
    /// </summary>
    public T Open<T>(string method, EnvelopeKind kind, Envelope? reply, ulong requestSeq, MessageParser<T> parser, string from, Envelope? previous = null)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        Check(method, kind, reply, requestSeq, from);
        if (reply!.Refusal != Refusal.None || (recipient.Length != 0 && reply.Sender != recipient))
        {
            throw new AdminCallException($"the reply from {from} comes from another run of '{reply.Sender}' (it restarted?): try again");
        }

        if (previous is not null && (previous.Sender != reply.Sender || previous.Incarnation != reply.Incarnation || reply.Seq <= previous.Seq))
        {
            throw new AdminCallException($"a status update from {from} is out of order or repeated (replayed?)");
        }

        try
        {
            return parser.ParseFrom(reply.Payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new AdminCallException($"the reply from {from} does not hold a {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    /// <summary>The checks every sealed reply passes: MAC, a node of the cluster, for this farmctl run, this request, fresh.</summary>
    private void Check(string method, EnvelopeKind kind, Envelope? reply, ulong requestSeq, string from)
    {
        if (reply is null)
        {
            throw new AdminCallException($"{from} answered without sealing the reply: it is not a farmd of this cluster (or too old)");
        }

        if (!codec.HasValidMac(method, kind, reply))
        {
            throw new AdminCallException($"the reply from {from} is not sealed with your key (bad MAC): --cluster/--key-file holds another cluster's key");
        }

        if (nodes is not null && !nodes.Contains(reply.Sender))
        {
            throw new AdminCallException($"the reply from {from} comes from '{reply.Sender}', which is not a node of the cluster file");
        }

        if (reply.ReplyTo != requestSeq)
        {
            throw new AdminCallException($"the reply from {from} answers another request (replayed?)");
        }

        var skew = TimeSpan.FromMilliseconds(Math.Abs(timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - reply.UnixTimeMs));
        // The same bound as farmd's (docs/operations.md, Authentication).
        if (skew > EnvelopeCodec.MaxClockSkew)
        {
            throw new AdminCallException(
                $"the reply from {from} is {(int)skew.TotalSeconds} s away from this machine's clock (more than {(int)EnvelopeCodec.MaxClockSkew.TotalSeconds} s): synchronize the clocks (NTP), or the reply is replayed");
        }

        if (reply.Recipient != Sender || reply.RecipientIncarnation != Incarnation)
        {
            throw new AdminCallException($"the reply from {from} was sealed for another client (replayed?)");
        }
    }
}
