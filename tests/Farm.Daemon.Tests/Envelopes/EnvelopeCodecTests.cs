using System.Buffers.Binary;
using System.Security.Cryptography;
using Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Envelopes;

[TestClass]
public sealed class EnvelopeCodecTests
{
    private const string Method = "/farm.v1.Membership/Heartbeat";

    [TestMethod]
    public void Seal_KnownFields_MacFollowsTheDocumentedLayout()
    {
        var codec = new EnvelopeCodec("0123456789abcdef-key");
        var envelope = codec.Seal(Method, EnvelopeKind.Reply, new Envelope
        {
            Sender = "node1", Incarnation = 1700000000000, Seq = 42, UnixTimeMs = 1700000001234, Lan = 1, ReplyTo = 41,
            Recipient = "node2", RecipientIncarnation = 1700000000555, Protocol = 2, MaxProtocol = 3, Refusal = Refusal.Reseal,
            Payload = ByteString.CopyFromUtf8("payload"),
        });

        // Independent rebuild of the layout written in proto/farm/v1/envelope.proto.
        byte[] key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes("0123456789abcdef-key"), 32, [], Encoding.ASCII.GetBytes("farm/v1 envelope mac"));
        var m = new List<byte>(Encoding.ASCII.GetBytes("farm/v2 envelope\0"));
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); m.AddRange(b); }
        void U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64BigEndian(b, v); m.AddRange(b); }
        U32((uint)Method.Length); m.AddRange(Encoding.UTF8.GetBytes(Method));
        m.Add(1);
        U32(5); m.AddRange(Encoding.UTF8.GetBytes("node1"));
        U64(1700000000000); U64(42); U64(1700000001234); U32(1); U64(41);
        U32(5); m.AddRange(Encoding.UTF8.GetBytes("node2")); U64(1700000000555);
        U32(2); U32(3); U32(1);
        U32(7); m.AddRange(Encoding.UTF8.GetBytes("payload"));

        CollectionAssert.AreEqual(HMACSHA256.HashData(key, m.ToArray()), envelope.Mac.ToByteArray());
        Assert.IsTrue(codec.HasValidMac(Method, EnvelopeKind.Reply, envelope));
    }

    [TestMethod]
    public void HasValidMac_OtherMethodOrKind_False()
    {
        var codec = new EnvelopeCodec("0123456789abcdef-key");
        var envelope = codec.Seal(Method, EnvelopeKind.Request, Minimal());

        Assert.IsFalse(codec.HasValidMac("/farm.v1.Membership/Commit", EnvelopeKind.Request, envelope));
        Assert.IsFalse(codec.HasValidMac(Method, EnvelopeKind.Reply, envelope));
    }

    [TestMethod]
    public void HasValidMac_WrongKey_False()
    {
        var envelope = new EnvelopeCodec("attacker-guessed-key").Seal(Method, EnvelopeKind.Request, Minimal());

        Assert.IsFalse(new EnvelopeCodec("0123456789abcdef-key").HasValidMac(Method, EnvelopeKind.Request, envelope));
    }

    [TestMethod]
    public void HasValidMac_RecipientOrItsRunChanged_False()
    {
        var codec = new EnvelopeCodec("0123456789abcdef-key");
        var envelope = codec.Seal(Method, EnvelopeKind.Request, Minimal());

        var elsewhere = envelope.Clone();
        elsewhere.Recipient = "node3";
        var otherRun = envelope.Clone();
        otherRun.RecipientIncarnation++;
        Assert.IsFalse(codec.HasValidMac(Method, EnvelopeKind.Request, elsewhere), "redirected to another node");
        Assert.IsFalse(codec.HasValidMac(Method, EnvelopeKind.Request, otherRun), "moved to another run of the node");
    }

    private static Envelope Minimal() => new()
    {
        Sender = "node1", Incarnation = 1, Seq = 1, UnixTimeMs = 1, Recipient = "node2", RecipientIncarnation = 7, Protocol = 2, MaxProtocol = 2,
    };
}
