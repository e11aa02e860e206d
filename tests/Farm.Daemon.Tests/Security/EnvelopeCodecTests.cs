using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Farm.Protocol.Security;
using Google.Protobuf;

namespace Farm.Daemon.Tests.Security;

[TestClass]
public sealed class EnvelopeCodecTests
{
    private const string Method = "/farm.v1.Membership/Heartbeat";

    [TestMethod]
    public void Seal_KnownFields_MacFollowsTheDocumentedLayout()
    {
        var codec = new EnvelopeCodec("0123456789abcdef-key");
        var envelope = codec.Seal(Method, EnvelopeKind.Reply, "node1", 1700000000000, 42, 1700000001234, 1, 41, ByteString.CopyFromUtf8("payload"));

        // Independent rebuild of the layout written in proto/farm/v1/envelope.proto.
        byte[] key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes("0123456789abcdef-key"), 32, [], Encoding.ASCII.GetBytes("farm/v1 envelope mac"));
        var m = new List<byte>(Encoding.ASCII.GetBytes("farm/v1 envelope\0"));
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(b, v); m.AddRange(b); }
        void U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64BigEndian(b, v); m.AddRange(b); }
        U32((uint)Method.Length); m.AddRange(Encoding.UTF8.GetBytes(Method));
        m.Add(1);
        U32(5); m.AddRange(Encoding.UTF8.GetBytes("node1"));
        U64(1700000000000); U64(42); U64(1700000001234); U32(1); U64(41);
        U32(7); m.AddRange(Encoding.UTF8.GetBytes("payload"));

        CollectionAssert.AreEqual(HMACSHA256.HashData(key, m.ToArray()), envelope.Mac.ToByteArray());
        Assert.IsTrue(codec.HasValidMac(Method, EnvelopeKind.Reply, envelope));
    }

    [TestMethod]
    public void HasValidMac_OtherMethodOrKind_False()
    {
        var codec = new EnvelopeCodec("0123456789abcdef-key");
        var envelope = codec.Seal(Method, EnvelopeKind.Request, "node1", 1, 1, 1, 0, 0, ByteString.Empty);

        Assert.IsFalse(codec.HasValidMac("/farm.v1.Membership/Commit", EnvelopeKind.Request, envelope));
        Assert.IsFalse(codec.HasValidMac(Method, EnvelopeKind.Reply, envelope));
    }

    [TestMethod]
    public void HasValidMac_WrongKey_False()
    {
        var envelope = new EnvelopeCodec("attacker-guessed-key").Seal(Method, EnvelopeKind.Request, "node1", 1, 1, 1, 0, 0, ByteString.Empty);

        Assert.IsFalse(new EnvelopeCodec("0123456789abcdef-key").HasValidMac(Method, EnvelopeKind.Request, envelope));
    }
}
