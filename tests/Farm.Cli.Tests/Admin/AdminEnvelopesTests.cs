using Microsoft.Extensions.Time.Testing;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;

namespace Farm.Cli.Tests.Admin;

[TestClass]
public sealed class AdminEnvelopesTests
{
    private const string Key = "farmctl-test-cluster-key-0123456789";
    private const string Method = "/farm.v1.Admin/GetStatus";
    private static readonly HashSet<string> Nodes = new(["n1", "n2"], StringComparer.Ordinal);
    private readonly FakeTimeProvider clock = new(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000));

    [TestMethod]
    public void Seal_Request_FarmdsCodecAcceptsItAndSeqsIncrease()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock, "farmctl@test");
        var first = envelopes.Seal(Method, new StatusQuery());
        var second = envelopes.Seal(Method, new StatusQuery());

        Assert.IsTrue(new EnvelopeCodec(Key).HasValidMac(Method, EnvelopeKind.Request, first));
        Assert.AreEqual((1UL, 2UL), (first.Seq, second.Seq));
        Assert.AreEqual(("farmctl@test", 1_764_000_000_000L, 0UL), (first.Sender, first.Incarnation, first.ReplyTo));
    }

    [TestMethod]
    public void Open_AuthenticReply_ReturnsThePayload()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var request = envelopes.Seal(Method, new StatusQuery());
        var report = envelopes.Open(Method, EnvelopeKind.Reply, Reply(Key, "n1", request.Seq), request.Seq, NodeStatusReport.Parser, "n1:9400");
        Assert.AreEqual("demo", report.Cluster);
    }

    [TestMethod]
    public void Open_ReplySealedWithAnotherKey_FailsNamingTheKey()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var error = Assert.ThrowsExactly<AdminCallException>(() =>
            envelopes.Open(Method, EnvelopeKind.Reply, Reply("another-cluster-key-9876543210", "n1", 1), 1, NodeStatusReport.Parser, "h:1"));
        StringAssert.Contains(error.Message, "bad MAC");
    }

    [TestMethod]
    public void Open_ReplyToAnotherRequest_Fails()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var error = Assert.ThrowsExactly<AdminCallException>(() => envelopes.Open(Method, EnvelopeKind.Reply, Reply(Key, "n1", 7), 1, NodeStatusReport.Parser, "h:1"));
        StringAssert.Contains(error.Message, "answers another request");
    }

    [TestMethod]
    public void Open_SenderNotInTheClusterFile_Fails()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var error = Assert.ThrowsExactly<AdminCallException>(() => envelopes.Open(Method, EnvelopeKind.Reply, Reply(Key, "mallory", 1), 1, NodeStatusReport.Parser, "h:1"));
        StringAssert.Contains(error.Message, "'mallory', which is not a node");
    }

    [TestMethod]
    public void Open_ReplyOlderThanTheSkewLimit_Fails()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var reply = Reply(Key, "n1", 1);
        clock.Advance(TimeSpan.FromSeconds(31));
        var error = Assert.ThrowsExactly<AdminCallException>(() => envelopes.Open(Method, EnvelopeKind.Reply, reply, 1, NodeStatusReport.Parser, "h:1"));
        StringAssert.Contains(error.Message, "synchronize the clocks");
    }

    [TestMethod]
    public void Open_StreamItemRepeated_Fails()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var item = Reply(Key, "n1", 1, EnvelopeKind.StreamItem, seq: 10);
        _ = envelopes.Open(Method, EnvelopeKind.StreamItem, item, 1, NodeStatusReport.Parser, "h:1");
        var error = Assert.ThrowsExactly<AdminCallException>(() => envelopes.Open(Method, EnvelopeKind.StreamItem, item, 1, NodeStatusReport.Parser, "h:1", previous: item));
        StringAssert.Contains(error.Message, "out of order or repeated");
    }

    [TestMethod]
    public void Open_UnaryReplyPresentedAsStreamItem_FailsTheMac()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        Assert.ThrowsExactly<AdminCallException>(() => envelopes.Open(Method, EnvelopeKind.StreamItem, Reply(Key, "n1", 1), 1, NodeStatusReport.Parser, "h:1"));
    }

    [TestMethod]
    public void Open_ReplySealedForAnotherClient_Fails()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var reply = Reply(Key, "n1", 1, recipient: "farmctl@elsewhere");
        var error = Assert.ThrowsExactly<AdminCallException>(() => envelopes.Open(Method, EnvelopeKind.Reply, reply, 1, NodeStatusReport.Parser, "h:1"));
        StringAssert.Contains(error.Message, "sealed for another client");
    }

    [TestMethod]
    public void LearnRun_ResealRefusal_NextRequestNamesTheNodeAndItsRun()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var first = envelopes.Seal(Method, new StatusQuery());
        Assert.AreEqual(("", 0L, false), (first.Recipient, first.RecipientIncarnation, envelopes.KnowsRun));

        Assert.IsTrue(envelopes.LearnRun(Method, EnvelopeKind.Reply, Reply(Key, "n2", first.Seq, refusal: Refusal.Reseal), first.Seq, "h:1"));
        var second = envelopes.Seal(Method, new StatusQuery());
        Assert.AreEqual(("n2", 42L, true), (second.Recipient, second.RecipientIncarnation, envelopes.KnowsRun));
        Assert.IsFalse(envelopes.LearnRun(Method, EnvelopeKind.Reply, Reply(Key, "n2", second.Seq), second.Seq, "h:1"), "an answer is not a refusal");
    }

    [TestMethod]
    public void LearnRun_ForgedRefusal_FailsTheMac()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var error = Assert.ThrowsExactly<AdminCallException>(() =>
            envelopes.LearnRun(Method, EnvelopeKind.Reply, Reply("another-cluster-key-9876543210", "n1", 1, refusal: Refusal.Reseal), 1, "h:1"));
        StringAssert.Contains(error.Message, "bad MAC");
    }

    [TestMethod]
    public void LearnRun_ProtocolRefusal_ThrowsNamingBothVersions()
    {
        var envelopes = new AdminEnvelopes(Key, Nodes, clock);
        var error = Assert.ThrowsExactly<AdminCallException>(() =>
            envelopes.LearnRun(Method, EnvelopeKind.Reply, Reply(Key, "n1", 1, refusal: Refusal.Protocol, protocol: 7), 1, "h:1"));
        StringAssert.Contains(error.Message, "speaks farm protocol 7-7, this farmctl 2");
    }

    private Envelope Reply(
        string key, string sender, ulong replyTo, EnvelopeKind kind = EnvelopeKind.Reply, ulong seq = 5, string? recipient = null, Refusal refusal = Refusal.None, uint protocol = 2) =>
        new EnvelopeCodec(key).Seal(Method, kind, new Envelope
        {
            Sender = sender,
            Incarnation = 42,
            Seq = seq,
            UnixTimeMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            ReplyTo = replyTo,
            Recipient = recipient ?? "farmctl@" + Environment.MachineName,
            RecipientIncarnation = 1_764_000_000_000,
            Protocol = protocol,
            MaxProtocol = protocol,
            Refusal = refusal,
            Payload = refusal == Refusal.None ? new NodeStatusReport { Cluster = "demo" }.ToByteString() : ByteString.Empty,
        });
}
