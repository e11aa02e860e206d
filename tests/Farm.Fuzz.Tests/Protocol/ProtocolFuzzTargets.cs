using Farm.Protocol.V1;

namespace Farm.Fuzz.Tests.Protocol;

/// <summary>
/// What a peer can send before anything is authenticated: the envelope (parsed, then its MAC checked) and the payloads
/// inside. Parsing fails only with <see cref="InvalidProtocolBufferException"/>; a parsed message survives a round trip;
/// a valid MAC is only ever found on the contents a key holder sealed.
/// </summary>
internal static class ProtocolFuzzTargets
{
    private static readonly EnvelopeCodec Codec = new(ProtocolSeeds.Key);

    // The contents of the sealed seeds: the only ones a valid MAC may be found on.
    private static readonly Lazy<HashSet<string>> SealedSeeds = new(() =>
        [.. FuzzRunner.KeptInputs("envelope").Where(k => k.File.StartsWith("seed-", StringComparison.Ordinal)).Select(k => Covered(Envelope.Parser.ParseFrom(k.Data)))]);

    private static readonly IReadOnlyList<byte[]> ProtoTokens =
    [
        [0x08], [0x0a], [0x12], [0x1a], [0x22], [0x2a], [0x32], [0x3a], [0x42], [0x80, 0x01], [0xff, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        [0x0a, 0x7f], [0x0a, 0x80, 0x80, 0x04], [0x0b], [0x0c], [0x0d, 0, 0, 0, 0], [0x09, 0, 0, 0, 0, 0, 0, 0, 0], [0x0a, 0x00],
    ];

    /// <summary>A membership payload: the first byte picks the message type (<see cref="ProtocolSeeds.PayloadParsers"/>).</summary>
    internal static FuzzTarget PayloadTarget { get; } = new()
    {
        Name = "membership",
        Run = input =>
        {
            if (input.Length == 0)
            {
                return false;
            }

            var parser = ProtocolSeeds.PayloadParsers[input[0] % ProtocolSeeds.PayloadParsers.Length];
            var message = parser.ParseFrom(input.AsSpan(1));
            RoundTrip(parser, message);
            return true;
        },
        IsExpected = ex => ex is InvalidProtocolBufferException,
        TimeBound = TimeSpan.FromMilliseconds(200),
        AllocationBound = length => 200_000 + (60L * length),
        MaxLength = 8192,
        Dictionary = ProtoTokens,
    };

    /// <summary>An envelope as received: parse, MAC check for every method and kind, then the payload of a valid one.</summary>
    internal static FuzzTarget EnvelopeTarget { get; } = PayloadTarget with
    {
        Name = "envelope",
        Run = input =>
        {
            var envelope = Envelope.Parser.ParseFrom(input);
            RoundTrip(Envelope.Parser, envelope);
            bool valid = false;
            foreach (var (method, request, reply) in ProtocolSeeds.Methods)
            {
                foreach (var kind in new[] { EnvelopeKind.Request, EnvelopeKind.Reply, EnvelopeKind.StreamItem })
                {
                    if (!Codec.HasValidMac(method, kind, envelope))
                    {
                        continue;
                    }

                    // Only what the key holder sealed may pass: the MAC covers these fields (and the method and kind).
                    if (!SealedSeeds.Value.Contains(Covered(envelope)))
                    {
                        throw new FuzzInvariantException($"a valid MAC on contents no seed sealed ({method}, {kind})");
                    }

                    valid = true;
                    var payloadParser = kind == EnvelopeKind.Request ? request : reply;
                    RoundTrip(payloadParser, payloadParser.ParseFrom(envelope.Payload));
                }
            }

            return valid;
        },
        AllocationBound = length => 300_000 + (200L * length),
        ShallowHint = "mutations that keep the covered fields (reordered or unknown fields) should still pass the MAC check",
    };

    /// <summary>The fields under the MAC (see envelope.proto), as one comparable string.</summary>
    private static string Covered(Envelope e) =>
        $"{e.Sender}|{e.Incarnation}|{e.Seq}|{e.UnixTimeMs}|{e.Lan}|{e.ReplyTo}|{e.Recipient}|{e.RecipientIncarnation}|{e.Protocol}|{e.MaxProtocol}|{e.Refusal}|{Convert.ToHexString(e.Payload.Span)}|{Convert.ToHexString(e.Mac.Span)}";

    private static void RoundTrip(MessageParser parser, IMessage message)
    {
        var again = parser.ParseFrom(message.ToByteArray());
        if (!again.Equals(message))
        {
            throw new FuzzInvariantException($"{message.Descriptor.Name} does not survive a round trip");
        }
    }
}
