using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;

namespace Farm.Daemon.Security;

/// <summary>
/// Seals this run's envelopes (one seq counter for requests and replies) and opens received ones: MAC, sender,
/// clock skew, reply binding and replay window, in that order, counting every refusal in <see cref="Rejections"/>.
/// Thread-safe.
/// </summary>
internal sealed class EnvelopeAuthenticator
{
    /// <summary>Largest accepted difference between a message's timestamp and our clock (clocks must agree this well).</summary>
    public static readonly TimeSpan DefaultMaxClockSkew = TimeSpan.FromSeconds(30);

    private const int MaxSenderLength = 128;

    private readonly EnvelopeCodec codec;
    private readonly TimeProvider timeProvider;
    private long lastSeq;

    public EnvelopeAuthenticator(EnvelopeCodec codec, string self, long incarnation, TimeProvider timeProvider, RejectionLog rejections, TimeSpan? maxClockSkew = null)
    {
        this.codec = codec ?? throw new ArgumentNullException(nameof(codec));
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        Self = self;
        Incarnation = incarnation;
        Rejections = rejections ?? throw new ArgumentNullException(nameof(rejections));
        MaxClockSkew = maxClockSkew ?? DefaultMaxClockSkew;
    }

    /// <summary>This node's name, the sender of every sealed envelope.</summary>
    public string Self { get; }

    /// <summary>This run's incarnation.</summary>
    public long Incarnation { get; }

    /// <summary>Refusal counters.</summary>
    public RejectionLog Rejections { get; }

    /// <summary>Largest accepted clock difference.</summary>
    public TimeSpan MaxClockSkew { get; }

    /// <summary>Seals <paramref name="payload"/> with the next seq of this run.</summary>
    public Envelope Seal(string method, EnvelopeKind kind, uint lan, ulong replyTo, IMessage payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ulong seq = (ulong)Interlocked.Increment(ref lastSeq);
        return codec.Seal(method, kind, Self, Incarnation, seq, timeProvider.GetUtcNow().ToUnixTimeMilliseconds(), lan, replyTo, payload.ToByteString());
    }

    /// <summary>
    /// Checks a received envelope; on refusal counts it under <paramref name="source"/> and returns the reason.
    /// </summary>
    /// <param name="method">The gRPC path the envelope arrived on (part of the MAC).</param>
    /// <param name="kind">What the envelope must be.</param>
    /// <param name="envelope">The envelope.</param>
    /// <param name="source">Who delivered it, for counters and logs (remote address, or "reply from NODE").</param>
    /// <param name="guard">The replay windows to check against.</param>
    /// <param name="senderAllowed">Whether the claimed sender may talk to us at all.</param>
    /// <param name="expectedReplyTo">For replies and stream items: the seq of our request; 0 for requests.</param>
    public RejectReason? Open(
        string method, EnvelopeKind kind, Envelope? envelope, string source, ReplayGuard guard, Func<string, bool> senderAllowed, ulong expectedReplyTo = 0)
    {
        ArgumentNullException.ThrowIfNull(guard);
        ArgumentNullException.ThrowIfNull(senderAllowed);
        RejectReason? reason = Check(method, kind, envelope, guard, senderAllowed, expectedReplyTo);
        if (reason is { } r)
        {
            Rejections.Record(source, r, method, Printable(envelope?.Sender));
        }

        return reason;
    }

    private RejectReason? Check(string method, EnvelopeKind kind, Envelope? envelope, ReplayGuard guard, Func<string, bool> senderAllowed, ulong expectedReplyTo)
    {
        if (envelope is null || envelope.Sender.Length is 0 or > MaxSenderLength || envelope.Seq == 0 || envelope.Mac.Length != EnvelopeCodec.MacLength)
        {
            return RejectReason.Malformed;
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

        // Bounds the replay of a message captured and held back, and of one recorded before our own restart (an
        // empty window would take it): a new incarnation is accepted only this close to our clock, and so is everything else.
        long skewMs = Math.Abs(timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - envelope.UnixTimeMs);
        if (skewMs > MaxClockSkew.TotalMilliseconds)
        {
            return RejectReason.ClockSkew;
        }

        if (envelope.ReplyTo != expectedReplyTo)
        {
            return RejectReason.Replayed; // an authentic reply, but to another request
        }

        return guard.Accept(envelope.Sender, envelope.Incarnation, envelope.Seq);
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
