using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Farm.Protocol.V1;
using Google.Protobuf;

namespace Farm.Protocol.Security;

/// <summary>
/// Computes and checks the MAC of <see cref="Envelope"/>s with a key derived from the cluster key (layout and binding
/// rules in proto/farm/v1/envelope.proto). Thread-safe (one HMAC state per thread); replay protection is the receiver's job.
/// </summary>
public sealed class EnvelopeCodec
{
    /// <summary>Length of the MAC in bytes (HMAC-SHA256).</summary>
    public const int MacLength = 32;

    /// <summary>HKDF "info" label: a key for this purpose only, so the raw cluster key never keys an HMAC directly.</summary>
    public const string KeyPurpose = "farm/v1 envelope mac";

    /// <summary>Longest sender or recipient name an envelope may carry, in characters; farmd refuses longer ones as malformed.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Largest difference between an envelope's <c>unix_time_ms</c> and the receiver's clock (envelope.proto, binding).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(30);

    private static readonly byte[] Domain = Encoding.ASCII.GetBytes("farm/v2 envelope\0");
    private readonly byte[] macKey;

    // One HMAC per thread, reused while the thread keeps sealing with the same key: the one-shot HMACSHA256.HashData sets
    // up OpenSSL's MAC afresh on every call, ~5% of an idle farmd's CPU (perf, docs/performance.md). IncrementalHash
    // resets itself after each hash. Static so the codec stays a plain immutable object; a thread that switches codecs
    // (tests with several keys) makes a new one.
    [ThreadStatic]
    private static (byte[] Key, IncrementalHash Hmac)? threadHmac;

    /// <summary>Derives the MAC key from <paramref name="clusterKey"/> (the cluster file's <c>key</c>).</summary>
    public EnvelopeCodec(string clusterKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterKey);
        macKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(clusterKey), MacLength, [], Encoding.ASCII.GetBytes(KeyPurpose));
    }

    /// <summary>Sets the MAC of <paramref name="envelope"/> (every other field filled in by the caller) and returns it.</summary>
    public Envelope Seal(string method, EnvelopeKind kind, Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        envelope.Mac = ByteString.CopyFrom(ComputeMac(method, kind, envelope));
        return envelope;
    }

    /// <summary>True when the envelope's MAC is right for <paramref name="method"/> and <paramref name="kind"/> (constant-time compare).</summary>
    public bool HasValidMac(string method, EnvelopeKind kind, Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        if (envelope.Mac.Length != MacLength)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(ComputeMac(method, kind, envelope), envelope.Mac.Span);
    }

    private byte[] ComputeMac(string method, EnvelopeKind kind, Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(method);
        int methodLength = Encoding.UTF8.GetByteCount(method);
        int senderLength = Encoding.UTF8.GetByteCount(envelope.Sender);
        int recipientLength = Encoding.UTF8.GetByteCount(envelope.Recipient);
        ReadOnlySpan<byte> payload = envelope.Payload.Span;
        int length = Domain.Length + 4 + methodLength + 1 + 4 + senderLength + 8 + 8 + 8 + 4 + 8
            + 4 + recipientLength + 8 + 4 + 4 + 4 + 4 + payload.Length;
        byte[] buffer = new byte[length];
        var w = new SpanWriter(buffer);
        w.Write(Domain);
        w.WriteString(method, methodLength);
        w.WriteByte((byte)kind);
        w.WriteString(envelope.Sender, senderLength);
        w.WriteUInt64((ulong)envelope.Incarnation);
        w.WriteUInt64(envelope.Seq);
        w.WriteUInt64((ulong)envelope.UnixTimeMs);
        w.WriteUInt32(envelope.Lan);
        w.WriteUInt64(envelope.ReplyTo);
        w.WriteString(envelope.Recipient, recipientLength);
        w.WriteUInt64((ulong)envelope.RecipientIncarnation);
        w.WriteUInt32(envelope.Protocol);
        w.WriteUInt32(envelope.MaxProtocol);
        w.WriteUInt32((uint)envelope.Refusal);
        w.WriteUInt32((uint)payload.Length);
        w.Write(payload);
        if (threadHmac is not { } cached || !ReferenceEquals(cached.Key, macKey))
        {
            threadHmac?.Hmac.Dispose();
            cached = (macKey, IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, macKey));
            threadHmac = cached;
        }

        var h = cached.Hmac;
        h.AppendData(buffer);
        return h.GetHashAndReset();
    }

    /// <summary>Big-endian writer over a buffer sized exactly beforehand.</summary>
    private ref struct SpanWriter(Span<byte> buffer)
    {
        private readonly Span<byte> buffer = buffer;
        private int position;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(buffer[position..]);
            position += bytes.Length;
        }

        /// <summary>u32be(byte length) then the UTF-8 bytes.</summary>
        public void WriteString(string text, int byteLength)
        {
            WriteUInt32((uint)byteLength);
            position += Encoding.UTF8.GetBytes(text, buffer[position..]);
        }

        public void WriteByte(byte value) => buffer[position++] = value;

        public void WriteUInt32(uint value)
        {
            BinaryPrimitives.WriteUInt32BigEndian(buffer[position..], value);
            position += 4;
        }

        public void WriteUInt64(ulong value)
        {
            BinaryPrimitives.WriteUInt64BigEndian(buffer[position..], value);
            position += 8;
        }
    }
}
