using Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Envelopes;

[TestClass]
public sealed class EnvelopeAuthenticatorTests : IDisposable
{
    private const string Key = "0123456789abcdef-cluster-key";
    private const string Method = "/farm.v1.Membership/Heartbeat";
    private const string Source = "198.18.0.2";

    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly TestLogSink logs = new();
    private readonly ReplayGuard guard = new();
    private EnvelopeAuthenticator receiver = null!;
    private EnvelopeAuthenticator sender = null!;

    [TestInitialize]
    public void Setup()
    {
        receiver = new EnvelopeAuthenticator(new EnvelopeCodec(Key), "node1", 1000, time, new RejectionLog(time, logs.CreateLogger<RejectionLog>()));
        sender = CreateSender("node2", 2000, Key);
    }

    public void Dispose() => logs.Dispose();

    [TestMethod]
    public void Open_ValidRequest_Accepted()
    {
        var envelope = Seal(sender);

        Assert.IsNull(Open(envelope));
        Assert.AreEqual(2000, guard.IncarnationOf("node2"));
        Assert.AreEqual(0, receiver.Rejections.Snapshot().Count);
    }

    [TestMethod]
    public void Open_WrongKey_RejectedAsBadMacAndCounted()
    {
        var forged = Seal(CreateSender("node2", 2000, "not-the-cluster-key-at-all"));

        Assert.AreEqual(RejectReason.BadMac, Open(forged));
        Assert.AreEqual(1, receiver.Rejections.Count(Source, RejectReason.BadMac));
        Assert.AreEqual(0, guard.IncarnationOf("node2"), "a forged message must not touch the replay state");
    }

    [TestMethod]
    public void Open_SameEnvelopeTwice_SecondRejectedAsReplayed()
    {
        var envelope = Seal(sender);

        Assert.IsNull(Open(envelope));
        Assert.AreEqual(RejectReason.Replayed, Open(envelope.Clone()));
        Assert.AreEqual(1, receiver.Rejections.Count(Source, RejectReason.Replayed));
    }

    [TestMethod]
    public void Open_TimestampOlderThanSkew_RejectedAsClockSkew()
    {
        var envelope = Seal(sender);
        time.Advance(EnvelopeAuthenticator.DefaultMaxClockSkew + TimeSpan.FromSeconds(1));

        Assert.AreEqual(RejectReason.ClockSkew, Open(envelope));
    }

    [TestMethod]
    public void Open_TimestampWithinSkew_Accepted()
    {
        var envelope = Seal(sender);
        time.Advance(EnvelopeAuthenticator.DefaultMaxClockSkew - TimeSpan.FromSeconds(1));

        Assert.IsNull(Open(envelope));
    }

    [TestMethod]
    public void Open_UnknownSender_RejectedWithoutTouchingState()
    {
        var envelope = Seal(CreateSender("intruder", 1, Key));

        Assert.AreEqual(RejectReason.UnknownSender, Open(envelope));
        Assert.AreEqual(0, guard.IncarnationOf("intruder"));
        Assert.AreEqual("intruder", receiver.Rejections.Snapshot().Single().LastClaimedSender);
    }

    [TestMethod]
    public void Open_ReorderedWithinWindow_AllAccepted()
    {
        var envelopes = Enumerable.Range(0, 10).Select(_ => Seal(sender)).ToList();

        foreach (int i in new[] { 9, 0, 5, 1, 8, 2, 7, 3, 6, 4 })
        {
            Assert.IsNull(Open(envelopes[i]), $"envelope {i}");
        }
    }

    [TestMethod]
    public void Open_AnySingleBitFlipped_Rejected()
    {
        var original = Seal(sender, ByteString.CopyFromUtf8("heartbeat payload"));
        byte[] wire = original.ToByteArray();
        int rejected = 0, unparsable = 0;
        for (int bit = 0; bit < wire.Length * 8; bit++)
        {
            byte[] flipped = (byte[])wire.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Envelope tampered;
            try
            {
                tampered = Envelope.Parser.ParseFrom(flipped);
            }
            catch (InvalidProtocolBufferException)
            {
                unparsable++;
                continue;
            }

            if (tampered.Equals(original))
            {
                continue; // a flip that protobuf decodes to the same fields is no tampering (e.g. unknown field)
            }

            Assert.IsFalse(receiver.OpenRequest(Method, tampered, Source, new ReplayGuard(), _ => true).Serves, $"bit {bit} flipped was accepted");
            rejected++;
        }

        Assert.IsTrue(rejected > wire.Length * 4, $"only {rejected} flips were checked ({unparsable} unparsable)");
    }

    [TestMethod]
    public void Open_RequestPresentedAsReply_Rejected()
    {
        var request = Seal(sender);

        Assert.AreEqual(RejectReason.BadMac, receiver.OpenReply(Method, EnvelopeKind.Reply, request, Source, guard, "node2", requestSeq: 0));
    }

    [TestMethod]
    public void Open_AuthenticReplyToAnotherRequest_RejectedAsReplayed()
    {
        var request = receiver.SealRequest(Method, "node2", 2000, 0, new HeartbeatRequest());
        var reply = sender.SealReply(Method, EnvelopeKind.Reply, request, new HeartbeatReply());

        Assert.AreEqual(RejectReason.Replayed, receiver.OpenReply(Method, EnvelopeKind.Reply, reply, Source, guard, "node2", requestSeq: request.Seq + 1));
        Assert.IsNull(receiver.OpenReply(Method, EnvelopeKind.Reply, reply, Source, guard, "node2", requestSeq: request.Seq));
    }

    [TestMethod]
    public void Open_OlderIncarnationAfterNewer_Rejected()
    {
        var old = CreateSender("node2", 1500, Key);
        Assert.IsNull(Open(Seal(sender)));

        Assert.AreEqual(RejectReason.OldIncarnation, Open(Seal(old)));
    }

    [TestMethod]
    public void Open_ManyRejectionsFromOneSource_LoggedOncePerMinuteButAllCounted()
    {
        var forger = CreateSender("node2", 2000, "wrong-key-wrong-key-wrong");
        for (int i = 0; i < 50; i++)
        {
            Open(Seal(forger));
        }

        receiver.OpenRequest(Method, Seal(forger), "198.18.0.9", guard, _ => true);
        Assert.AreEqual(2, logs.Entries.Count(e => e.Id.Id == 100), "one line per source");

        time.Advance(TimeSpan.FromSeconds(61));
        Open(Seal(forger));

        var lines = logs.Entries.Where(e => e.Id.Id == 100).ToList();
        Assert.AreEqual(3, lines.Count);
        StringAssert.Contains(lines[^1].Message, "49 more");
        Assert.AreEqual(LogLevel.Warning, lines[^1].Level);
        Assert.AreEqual(51, receiver.Rejections.Count(Source, RejectReason.BadMac));
    }

    [TestMethod]
    public void OpenRequest_SealedForAnotherNode_RefusedAsWrongRecipientWithoutAnswer()
    {
        var verdict = receiver.OpenRequest(Method, Seal(sender, recipient: "node3"), Source, guard, _ => true);

        Assert.AreEqual(new RequestVerdict(RejectReason.WrongRecipient, Refusal.None), verdict);
        Assert.AreEqual(0, guard.IncarnationOf("node2"), "a misdirected message must not touch the replay state");
    }

    [TestMethod]
    public void OpenRequest_SealedForAnEarlierRun_AnsweredWithResealAndCounted()
    {
        var verdict = receiver.OpenRequest(Method, Seal(sender, recipientIncarnation: 999), Source, guard, _ => true);

        Assert.AreEqual(new RequestVerdict(RejectReason.StaleRun, Refusal.Reseal), verdict);
        Assert.AreEqual(1, receiver.Rejections.Count(Source, RejectReason.StaleRun));
    }

    [TestMethod]
    public void OpenRequest_FirstContact_AnsweredWithResealNotCounted()
    {
        var request = Seal(sender, recipientIncarnation: 0);
        var verdict = receiver.OpenRequest(Method, request, Source, guard, _ => true);
        var refusal = receiver.SealReply(Method, EnvelopeKind.Reply, request, null, verdict.Answer);

        Assert.AreEqual(new RequestVerdict(null, Refusal.Reseal), verdict);
        Assert.AreEqual(0, receiver.Rejections.Snapshot().Count);
        Assert.AreEqual((Refusal.Reseal, "node1", 1000L, "node2", 2000L), (refusal.Refusal, refusal.Sender, refusal.Incarnation, refusal.Recipient, refusal.RecipientIncarnation));
        Assert.IsNull(sender.OpenReply(Method, EnvelopeKind.Reply, refusal, "reply", new ReplayGuard(), "node1", request.Seq), "the refusal is authentic for its requester");
    }

    [TestMethod]
    public void OpenRequest_ProtocolTheReceiverDoesNotSpeak_AnsweredWithProtocolRefusal()
    {
        var newer = new EnvelopeAuthenticator(new EnvelopeCodec(Key), "node2", 2000, time, new RejectionLog(time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), new Farm.Protocol.ProtocolRange(3, 3));
        var request = newer.SealRequest(Method, "node1", 1000, 0, new HeartbeatRequest());
        var verdict = receiver.OpenRequest(Method, request, Source, guard, _ => true);

        Assert.AreEqual(new RequestVerdict(RejectReason.UnsupportedProtocol, Refusal.Protocol), verdict);
        Assert.AreEqual(3U, receiver.NewestProtocolOf("node2"));
    }

    [TestMethod]
    public void OpenRequest_ProtocolOneEnvelope_RefusedAsUnsupportedBeforeTheMac()
    {
        var legacy = Seal(sender);
        legacy.Protocol = 0;
        legacy.MaxProtocol = 0;

        Assert.AreEqual(RejectReason.UnsupportedProtocol, Open(legacy));
    }

    [TestMethod]
    public void SealRequest_PeerSpeaksNewerVersion_SpeaksTheNewestBothSpeak()
    {
        var range23 = new Farm.Protocol.ProtocolRange(2, 3);
        var node1 = new EnvelopeAuthenticator(new EnvelopeCodec(Key), "node1", 1000, time, new RejectionLog(time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), range23);
        var node2 = new EnvelopeAuthenticator(new EnvelopeCodec(Key), "node2", 2000, time, new RejectionLog(time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), range23);

        var first = node2.SealRequest(Method, "node1", 1000, 0, new HeartbeatRequest());
        Assert.AreEqual(2U, first.Protocol, "before hearing node1, node2 speaks its oldest version");
        Assert.IsTrue(node1.OpenRequest(Method, first, Source, guard, _ => true).Serves);
        var reply = node1.SealRequest(Method, "node2", 2000, 0, new HeartbeatRequest());
        Assert.AreEqual(3U, reply.Protocol, "node1 heard that node2 speaks 3");
    }

    [TestMethod]
    public void OpenReply_SealedForAnotherRequester_RefusedAsWrongRecipient()
    {
        var third = CreateSender("node3", 3000, Key);
        var request = third.SealRequest(Method, "node2", 2000, 0, new HeartbeatRequest());
        var reply = sender.SealReply(Method, EnvelopeKind.Reply, request, new HeartbeatReply());

        Assert.AreEqual(RejectReason.WrongRecipient, receiver.OpenReply(Method, EnvelopeKind.Reply, reply, Source, guard, "node2", request.Seq));
    }

    // Senders share the receiver's manual clock, so "now" is the same on both sides.
    private EnvelopeAuthenticator CreateSender(string name, long incarnation, string key) =>
        new(new EnvelopeCodec(key), name, incarnation, time, new RejectionLog(time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));

    private static Envelope Seal(EnvelopeAuthenticator from, ByteString? payload = null, string recipient = "node1", long recipientIncarnation = 1000) =>
        from.SealRequest(Method, recipient, recipientIncarnation, 0, new HeartbeatRequest { ConfigHash = payload?.ToStringUtf8() ?? "h" });

    /// <summary>The reason of a refused request, null when it may be served; a sealed refusal without a reason fails the test.</summary>
    private RejectReason? Open(Envelope envelope)
    {
        var verdict = receiver.OpenRequest(Method, envelope, Source, guard, name => name == "node2");
        Assert.IsTrue(verdict.Serves || verdict.Reason is not null, $"unexpected verdict {verdict}");
        return verdict.Reason;
    }
}
