using Farm.Protocol.V1;
using Google.Protobuf;

namespace Farm.Daemon.Envelopes;

/// <summary>
/// Seals this run's envelopes (one seq counter for requests and replies) and opens received ones, in the order
/// proto/farm/v1/envelope.proto specifies: protocol, sender, MAC, recipient, clock skew, reply binding, replay window,
/// then the recipient's run; every refusal is counted in <see cref="Rejections"/>. Thread-safe.
/// </summary>
internal sealed class EnvelopeAuthenticator
{
    /// <summary>Largest accepted difference between a message's timestamp and our clock (clocks must agree this well).</summary>
    public static readonly TimeSpan DefaultMaxClockSkew = TimeSpan.FromSeconds(30);

    private const int MaxNameLength = 128;

    private readonly EnvelopeCodec codec;
    private readonly TimeProvider timeProvider;
    private readonly ConcurrentDictionary<string, uint> newestOf = new(StringComparer.Ordinal);
    private long lastSeq;

    public EnvelopeAuthenticator(
        EnvelopeCodec codec, string self, long incarnation, TimeProvider timeProvider, RejectionLog rejections, ProtocolRange? protocols = null, TimeSpan? maxClockSkew = null)
    {
        this.codec = codec ?? throw new ArgumentNullException(nameof(codec));
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        Self = self;
        Incarnation = incarnation;
        Rejections = rejections ?? throw new ArgumentNullException(nameof(rejections));
        Protocols = protocols ?? ProtocolRange.Current;
        MaxClockSkew = maxClockSkew ?? DefaultMaxClockSkew;
    }

    /// <summary>This node's name, the sender of every sealed envelope.</summary>
    public string Self { get; }

    /// <summary>This run's incarnation.</summary>
    public long Incarnation { get; }

    /// <summary>The protocol versions this node speaks.</summary>
    public ProtocolRange Protocols { get; }

    /// <summary>Refusal counters.</summary>
    public RejectionLog Rejections { get; }

    /// <summary>Largest accepted clock difference.</summary>
    public TimeSpan MaxClockSkew { get; }

    /// <summary>The newest protocol version <paramref name="sender"/> said it speaks in an authentic envelope (0: not heard).</summary>
    public uint NewestProtocolOf(string sender) => newestOf.TryGetValue(sender, out uint v) ? v : 0;

    /// <summary>Seals a request to <paramref name="recipient"/>'s run <paramref name="recipientIncarnation"/> (0 when unknown: first contact).</summary>
    public Envelope SealRequest(string method, string recipient, long recipientIncarnation, uint lan, IMessage payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return Seal(method, EnvelopeKind.Request, new Envelope
        {
            Lan = lan,
            Recipient = recipient,
            RecipientIncarnation = recipientIncarnation,
            Protocol = Protocols.ToSpeakWith(NewestProtocolOf(recipient)),
            Payload = payload.ToByteString(),
        });
    }

    /// <summary>Seals a reply (or stream item) to <paramref name="request"/>: bound to its author, run and seq.</summary>
    public Envelope SealReply(string method, EnvelopeKind kind, Envelope request, IMessage? payload, Refusal refusal = Refusal.None)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Seal(method, kind, new Envelope
        {
            Lan = request.Lan,
            ReplyTo = request.Seq,
            Recipient = request.Sender,
            RecipientIncarnation = request.Incarnation,
            Protocol = Protocols.Speaks(request.Protocol) ? request.Protocol : Protocols.Oldest,
            Refusal = refusal,
            Payload = payload?.ToByteString() ?? ByteString.Empty,
        });
    }

    /// <summary>
    /// Checks a received request; counts a refusal under <paramref name="source"/>. The verdict says whether to serve
    /// it, to answer with a sealed refusal, or to refuse it without an answer.
    /// </summary>
    /// <param name="method">The gRPC path the envelope arrived on (part of the MAC).</param>
    /// <param name="envelope">The envelope.</param>
    /// <param name="source">Who delivered it, for counters and logs (remote address).</param>
    /// <param name="guard">The replay windows to check against.</param>
    /// <param name="senderAllowed">Whether the claimed sender may talk to us at all.</param>
    public RequestVerdict OpenRequest(string method, Envelope? envelope, string source, ReplayGuard guard, Func<string, bool> senderAllowed)
    {
        ArgumentNullException.ThrowIfNull(guard);
        ArgumentNullException.ThrowIfNull(senderAllowed);
        var verdict = CheckRequest(method, envelope, guard, senderAllowed);
        if (verdict.Reason is { } r)
        {
            Rejections.Record(source, r, method, Printable(envelope?.Sender));
        }

        return verdict;
    }

    /// <summary>
    /// Checks a received reply or stream item to our request <paramref name="requestSeq"/>, from
    /// <paramref name="expectedSender"/>; on refusal counts it and returns the reason. A sealed refusal passes: the
    /// caller reads <see cref="Envelope.Refusal"/>.
    /// </summary>
    public RejectReason? OpenReply(string method, EnvelopeKind kind, Envelope? envelope, string source, ReplayGuard guard, string expectedSender, ulong requestSeq)
    {
        ArgumentNullException.ThrowIfNull(guard);
        RejectReason? reason = CheckReply(method, kind, envelope, guard, expectedSender, requestSeq);
        if (reason is { } r)
        {
            Rejections.Record(source, r, method, Printable(envelope?.Sender));
        }

        return reason;
    }

    private Envelope Seal(string method, EnvelopeKind kind, Envelope envelope)
    {
        envelope.Sender = Self;
        envelope.Incarnation = Incarnation;
        envelope.Seq = (ulong)Interlocked.Increment(ref lastSeq);
        envelope.UnixTimeMs = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        envelope.MaxProtocol = Protocols.Newest;
        return codec.Seal(method, kind, envelope);
    }

    private RequestVerdict CheckRequest(string method, Envelope? envelope, ReplayGuard guard, Func<string, bool> senderAllowed)
    {
        if (CheckCommon(method, EnvelopeKind.Request, envelope, expectedReplyTo: 0, senderAllowed) is { } reason)
        {
            return RequestVerdict.Refuse(reason);
        }

        // A request names the node that must act: one sealed for another node is useless here.
        if (envelope!.Recipient.Length != 0 && !string.Equals(envelope.Recipient, Self, StringComparison.Ordinal))
        {
            return RequestVerdict.Refuse(RejectReason.WrongRecipient);
        }

        if (guard.Accept(envelope.Sender, envelope.Incarnation, envelope.Seq) is { } replay)
        {
            return RequestVerdict.Refuse(replay);
        }

        if (!Protocols.Speaks(envelope.Protocol))
        {
            return new RequestVerdict(RejectReason.UnsupportedProtocol, Refusal.Protocol);
        }

        // First contact (no recipient or run named) is normal: answer with our run, serve nothing, count nothing.
        if (envelope.Recipient.Length == 0 || envelope.RecipientIncarnation == 0)
        {
            return new RequestVerdict(null, Refusal.Reseal);
        }

        return envelope.RecipientIncarnation == Incarnation ? RequestVerdict.Serve : new RequestVerdict(RejectReason.StaleRun, Refusal.Reseal);
    }

    private RejectReason? CheckReply(string method, EnvelopeKind kind, Envelope? envelope, ReplayGuard guard, string expectedSender, ulong requestSeq)
    {
        if (CheckCommon(method, kind, envelope, requestSeq, s => string.Equals(s, expectedSender, StringComparison.Ordinal)) is { } reason)
        {
            return reason;
        }

        if (!string.Equals(envelope!.Recipient, Self, StringComparison.Ordinal))
        {
            return RejectReason.WrongRecipient;
        }

        if (envelope.RecipientIncarnation != Incarnation)
        {
            return RejectReason.StaleRun;
        }

        if (guard.Accept(envelope.Sender, envelope.Incarnation, envelope.Seq) is { } replay)
        {
            return replay;
        }

        return envelope.Refusal == Refusal.None && !Protocols.Speaks(envelope.Protocol) ? RejectReason.UnsupportedProtocol : null;
    }

    /// <summary>What requests and replies share: form, protocol generation, sender, MAC, clock, reply binding.</summary>
    private RejectReason? CheckCommon(string method, EnvelopeKind kind, Envelope? envelope, ulong expectedReplyTo, Func<string, bool> senderAllowed)
    {
        if (envelope is null || envelope.Sender.Length is 0 or > MaxNameLength || envelope.Recipient.Length > MaxNameLength || envelope.Seq == 0
            || envelope.Mac.Length != EnvelopeCodec.MacLength)
        {
            return RejectReason.Malformed;
        }

        // Protocol 1 envelopes carry no version and another MAC layout: say so instead of "bad MAC".
        if (envelope.Protocol == 0)
        {
            return RejectReason.UnsupportedProtocol;
        }

        // Cheap checks first: an unknown name costs no HMAC.
        if (!senderAllowed(envelope.Sender))
        {
            return RejectReason.UnknownSender;
        }

        if (!codec.HasValidMac(method, kind, envelope))
        {
            return RejectReason.BadMac;
        }

        newestOf[envelope.Sender] = envelope.MaxProtocol;

        // Bounds the replay of a message captured and held back.
        long skewMs = Math.Abs(timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - envelope.UnixTimeMs);
        if (skewMs > MaxClockSkew.TotalMilliseconds)
        {
            return RejectReason.ClockSkew;
        }

        return envelope.ReplyTo != expectedReplyTo ? RejectReason.Replayed : null;
    }

    private static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        string cut = text.Length > 64 ? text[..64] : text;
        return string.Concat(cut.Select(c => c is >= ' ' and <= '~' ? c : '?'));
    }
}

/// <summary>What to do with a received request.</summary>
/// <param name="Reason">Why it was refused (counted), or null.</param>
/// <param name="Answer">A sealed refusal to answer with instead of serving, or <see cref="Refusal.None"/>.</param>
internal readonly record struct RequestVerdict(RejectReason? Reason, Refusal Answer)
{
    /// <summary>Authentic, fresh, for this node and run: serve it.</summary>
    public static RequestVerdict Serve => new(null, Refusal.None);

    /// <summary>True when the request may be served.</summary>
    public bool Serves => Reason is null && Answer == Refusal.None;

    /// <summary>Refused without an answer.</summary>
    public static RequestVerdict Refuse(RejectReason reason) => new(reason, Refusal.None);
}
