using Farm.Testing.Time;
using Farm.Daemon.Security;
using Farm.Daemon.Tests.TestSupport;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Tests.Security;

[TestClass]
public sealed class EnvelopeAuthenticatorTests : IDisposable
{
    private const string Key = "0123456789abcdef-cluster-key";
    private const string Method = "/farm.v1.Membership/Heartbeat";
    private const string Source = "198.18.0.2";

    private readonly ManualTimeProvider time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private readonly TestLoggerProvider logs = new();
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

            Assert.IsNotNull(receiver.Open(Method, EnvelopeKind.Request, tampered, Source, new ReplayGuard(), _ => true), $"bit {bit} flipped was accepted");
            rejected++;
        }

        Assert.IsTrue(rejected > wire.Length * 4, $"only {rejected} flips were checked ({unparsable} unparsable)");
    }

    [TestMethod]
    public void Open_RequestPresentedAsReply_Rejected()
    {
        var request = Seal(sender);

        Assert.AreEqual(RejectReason.BadMac, receiver.Open(Method, EnvelopeKind.Reply, request, Source, guard, _ => true, expectedReplyTo: 0));
    }

    [TestMethod]
    public void Open_AuthenticReplyToAnotherRequest_RejectedAsReplayed()
    {
        var reply = sender.Seal(Method, EnvelopeKind.Reply, 0, replyTo: 7, new HeartbeatReply());

        Assert.AreEqual(RejectReason.Replayed, receiver.Open(Method, EnvelopeKind.Reply, reply, Source, guard, _ => true, expectedReplyTo: 8));
        Assert.IsNull(receiver.Open(Method, EnvelopeKind.Reply, reply, Source, guard, _ => true, expectedReplyTo: 7));
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

        receiver.Open(Method, EnvelopeKind.Request, Seal(forger), "198.18.0.9", guard, _ => true);
        Assert.AreEqual(2, logs.Entries.Count(e => e.Id.Id == 100), "one line per source");

        time.Advance(TimeSpan.FromSeconds(61));
        Open(Seal(forger));

        var lines = logs.Entries.Where(e => e.Id.Id == 100).ToList();
        Assert.AreEqual(3, lines.Count);
        StringAssert.Contains(lines[^1].Message, "49 more");
        Assert.AreEqual(LogLevel.Warning, lines[^1].Level);
        Assert.AreEqual(51, receiver.Rejections.Count(Source, RejectReason.BadMac));
    }

    // Senders share the receiver's manual clock, so "now" is the same on both sides.
    private EnvelopeAuthenticator CreateSender(string name, long incarnation, string key) =>
        new(new EnvelopeCodec(key), name, incarnation, time, new RejectionLog(time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));

    private static Envelope Seal(EnvelopeAuthenticator from, ByteString? payload = null) =>
        from.Seal(Method, EnvelopeKind.Request, 0, 0, new HeartbeatRequest { ConfigHash = payload?.ToStringUtf8() ?? "h" });

    private RejectReason? Open(Envelope envelope) =>
        receiver.Open(Method, EnvelopeKind.Request, envelope, Source, guard, name => name == "node2");
}
