using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;

namespace Farm.Testing.Farmd;

/// <summary>
/// Seals envelopes as a client or node named <paramref name="sender"/> in its run <paramref name="incarnation"/> would
/// (layout in proto/farm/v1/envelope.proto): for tests that speak to farmd directly, honestly or as an attacker.
/// </summary>
public sealed class TestSealer(string key, string sender, long incarnation)
{
    private ulong seq;

    /// <summary>The codec of the key.</summary>
    public EnvelopeCodec Codec { get; } = new(key);

    /// <summary>The sender name.</summary>
    public string Sender => sender;

    /// <summary>The sender's run.</summary>
    public long Incarnation => incarnation;

    /// <summary>A request to <paramref name="recipient"/>'s run <paramref name="recipientIncarnation"/> with the next seq.</summary>
    public Envelope Request(
        string method, IMessage payload, string recipient, long recipientIncarnation, uint lan = 0, uint protocol = ProtocolRange.RecipientBinding, uint? maxProtocol = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return Codec.Seal(method, EnvelopeKind.Request, new Envelope
        {
            Sender = sender,
            Incarnation = incarnation,
            Seq = ++seq,
            UnixTimeMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(),
            Lan = lan,
            Recipient = recipient,
            RecipientIncarnation = recipientIncarnation,
            Protocol = protocol,
            MaxProtocol = maxProtocol ?? protocol,
            Payload = payload.ToByteString(),
        });
    }

    /// <summary>A reply to <paramref name="request"/> with the next seq.</summary>
    public Envelope Reply(string method, Envelope request, IMessage payload, EnvelopeKind kind = EnvelopeKind.Reply)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(payload);
        return Codec.Seal(method, kind, new Envelope
        {
            Sender = sender,
            Incarnation = incarnation,
            Seq = ++seq,
            UnixTimeMs = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(),
            Lan = request.Lan,
            ReplyTo = request.Seq,
            Recipient = request.Sender,
            RecipientIncarnation = request.Incarnation,
            Protocol = request.Protocol,
            MaxProtocol = request.Protocol,
            Payload = payload.ToByteString(),
        });
    }
}
