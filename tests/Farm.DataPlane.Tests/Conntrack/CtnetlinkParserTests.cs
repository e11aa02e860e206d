using Farm.Native.Linux;
using static Farm.DataPlane.Tests.Conntrack.NetlinkMessages;

namespace Farm.DataPlane.Tests.Conntrack;

[TestClass]
public sealed class CtnetlinkParserTests
{
    private const uint Seq = 77;

    [TestMethod]
    public void WriteDumpRequest_Sequence_CtnetlinkGetWithRequestDumpFlagsAndUnspecFamily()
    {
        byte[] request = new byte[64];

        int length = CtnetlinkParser.WriteDumpRequest(request, 0x01020304);

        Assert.AreEqual(20, length);
        Assert.AreEqual(20u, BinaryPrimitives.ReadUInt32LittleEndian(request), "nlmsg_len");
        Assert.AreEqual(0x0101, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(4)), "NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET");
        Assert.AreEqual(0x0301, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(6)), "NLM_F_REQUEST | NLM_F_DUMP");
        Assert.AreEqual(0x01020304u, BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(8)), "nlmsg_seq");
        Assert.AreEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(request.AsSpan(12)), "nlmsg_pid: the kernel");
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0 }, request[16..20], "nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id 0");
    }

    [TestMethod]
    public void Parse_Ipv4TcpEstablished_LiveFlowWithOriginalTuple()
    {
        var flows = new List<TrackedFlow>();

        var progress = CtnetlinkParser.Parse(Entry(Seq, Tcp, Client4, 40000, Vip4, 8080, Established), Seq, flows);

        Assert.AreEqual(new CtnetlinkProgress(Done: false, Interrupted: false), progress);
        Assert.HasCount(1, flows);
        Assert.AreEqual(new TrackedFlow(TransportProtocol.Tcp, Client4, 40000, Vip4, 8080, Live: true), flows[0]);
    }

    [TestMethod]
    public void Parse_Ipv6Udp_LiveFlow()
    {
        var flows = new List<TrackedFlow>();

        CtnetlinkParser.Parse(Entry(Seq, Udp, Client6, 65535, Vip6, 5353), Seq, flows);

        Assert.HasCount(1, flows);
        Assert.AreEqual(new TrackedFlow(TransportProtocol.Udp, Client6, 65535, Vip6, 5353, Live: true), flows[0]);
    }

    [TestMethod]
    [DataRow((byte)0, false, DisplayName = "NONE")]
    [DataRow((byte)1, true, DisplayName = "SYN_SENT")]
    [DataRow((byte)2, true, DisplayName = "SYN_RECV")]
    [DataRow((byte)3, true, DisplayName = "ESTABLISHED")]
    [DataRow((byte)4, true, DisplayName = "FIN_WAIT")]
    [DataRow((byte)5, true, DisplayName = "CLOSE_WAIT")]
    [DataRow((byte)6, true, DisplayName = "LAST_ACK")]
    [DataRow((byte)7, false, DisplayName = "TIME_WAIT")]
    [DataRow((byte)8, false, DisplayName = "CLOSE")]
    [DataRow((byte)9, true, DisplayName = "SYN_SENT2")]
    public void Parse_TcpState_LiveUnlessNoneTimeWaitOrClose(byte state, bool live)
    {
        var flows = new List<TrackedFlow>();

        CtnetlinkParser.Parse(Entry(Seq, Tcp, Client4, 40000, Vip4, 8080, state), Seq, flows);

        Assert.AreEqual(live, flows.Single().Live);
    }

    [TestMethod]
    [DataRow((byte)1, 0x8u, false, DisplayName = "SYN_SENT, never answered")]
    [DataRow((byte)1, 0xau, true, DisplayName = "SYN_SENT, answered")]
    [DataRow((byte)2, 0x8u, true, DisplayName = "SYN_RECV")]
    [DataRow((byte)3, 0x8u, true, DisplayName = "ESTABLISHED without SEEN_REPLY (cannot happen; stays live)")]
    public void Parse_TcpSynNeverAnswered_NotLive(byte state, uint status, bool live)
    {
        var flows = new List<TrackedFlow>();

        CtnetlinkParser.Parse(NetlinkMessages.Entry(Seq, Tcp, Client4, 40000, Vip4, 8080, state, status: status), Seq, flows);

        Assert.AreEqual(live, flows.Single().Live);
    }

    [TestMethod]
    public void Parse_TcpWithoutProtoinfo_LiveBecauseWaitingIsSafe()
    {
        var flows = new List<TrackedFlow>();

        CtnetlinkParser.Parse(Entry(Seq, Tcp, Client4, 40000, Vip4, 8080, tcpState: null), Seq, flows);

        Assert.IsTrue(flows.Single().Live);
    }

    [TestMethod]
    public void Parse_SeveralMessagesThenDone_AllFlowsAndDone()
    {
        byte[] datagram = Concat(
            Entry(Seq, Tcp, Client4, 40000, Vip4, 8080, Established),
            Entry(Seq, Udp, Client6, 40001, Vip6, 5353),
            Entry(Seq, Tcp, Client6, 40002, Vip6, 8081, TimeWait, type: CtGetType),
            Done(Seq));
        var flows = new List<TrackedFlow>();

        var progress = CtnetlinkParser.Parse(datagram, Seq, flows);

        Assert.IsTrue(progress.Done);
        Assert.IsFalse(progress.Interrupted);
        CollectionAssert.AreEqual(new[] { 40000, 40001, 40002 }, flows.Select(f => f.SourcePort).ToArray());
        CollectionAssert.AreEqual(new[] { true, true, false }, flows.Select(f => f.Live).ToArray());
    }

    [TestMethod]
    public void Parse_MultiPartReply_AccumulatesUntilDone()
    {
        var flows = new List<TrackedFlow>();

        var first = CtnetlinkParser.Parse(Concat(Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established), Entry(Seq, Tcp, Client4, 2, Vip4, 8080, Established)), Seq, flows);
        var second = CtnetlinkParser.Parse(Entry(Seq, Udp, Client4, 3, Vip4, 5353), Seq, flows);
        var last = CtnetlinkParser.Parse(Done(Seq), Seq, flows);

        Assert.IsFalse(first.Done);
        Assert.IsFalse(second.Done);
        Assert.IsTrue(last.Done);
        Assert.HasCount(3, flows);
    }

    [TestMethod]
    public void Parse_AfterDone_RestIgnored()
    {
        var flows = new List<TrackedFlow>();

        var progress = CtnetlinkParser.Parse(Concat(Done(Seq), Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established)), Seq, flows);

        Assert.IsTrue(progress.Done);
        Assert.IsEmpty(flows);
    }

    [TestMethod]
    public void Parse_OtherSequence_IgnoredIncludingItsDoneAndErrors()
    {
        byte[] datagram = Concat(
            Entry(Seq - 1, Tcp, Client4, 1, Vip4, 8080, Established),
            Error(Seq - 1, 16),
            Done(Seq - 1),
            Entry(Seq, Tcp, Client4, 2, Vip4, 8080, Established));
        var flows = new List<TrackedFlow>();

        var progress = CtnetlinkParser.Parse(datagram, Seq, flows);

        Assert.IsFalse(progress.Done);
        Assert.AreEqual(2, flows.Single().SourcePort);
    }

    [TestMethod]
    public void Parse_OtherProtocols_Skipped()
    {
        byte[] icmp = Entry(Seq, Icmp, Client4, 0, Vip4, 0);
        byte[] sctp = Entry(Seq, 132, Client4, 1, Vip4, 2);
        var flows = new List<TrackedFlow>();

        CtnetlinkParser.Parse(Concat(icmp, sctp, Entry(Seq, Udp, Client4, 3, Vip4, 5353)), Seq, flows);

        Assert.AreEqual(TransportProtocol.Udp, flows.Single().Protocol);
    }

    [TestMethod]
    public void Parse_NestedFlagAbsent_StillParsed()
    {
        var flows = new List<TrackedFlow>();

        CtnetlinkParser.Parse(Entry(Seq, Tcp, Client4, 40000, Vip4, 8080, TimeWait, nestedFlag: false), Seq, flows);

        Assert.AreEqual(new TrackedFlow(TransportProtocol.Tcp, Client4, 40000, Vip4, 8080, Live: false), flows.Single());
    }

    [TestMethod]
    public void Parse_DumpInterruptedFlag_ReportedInterrupted()
    {
        byte[] entry = Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established);
        entry[6] |= 0x10; // NLM_F_DUMP_INTR
        var flows = new List<TrackedFlow>();

        var progress = CtnetlinkParser.Parse(Concat(entry, Done(Seq)), Seq, flows);

        Assert.AreEqual(new CtnetlinkProgress(Done: true, Interrupted: true), progress);
    }

    [TestMethod]
    public void Parse_NlmsgError_ThrowsNetlinkExceptionWithErrnoAndHint()
    {
        var flows = new List<TrackedFlow>();

        var e = Assert.ThrowsExactly<NetlinkException>(() => CtnetlinkParser.Parse(Error(Seq, 1), Seq, flows));

        Assert.AreEqual(1, e.Errno);
        StringAssert.Contains(e.Message, "errno 1");
        StringAssert.Contains(e.Message, "CAP_NET_ADMIN");
    }

    [TestMethod]
    public void Parse_NlmsgErrorWithExtendedAck_MessageCarriesTheKernelsReason()
    {
        var flows = new List<TrackedFlow>();

        var e = Assert.ThrowsExactly<NetlinkException>(() => CtnetlinkParser.Parse(Error(Seq, 22, "Unknown attribute"), Seq, flows));

        Assert.AreEqual(22, e.Errno);
        StringAssert.Contains(e.Message, "The kernel says: Unknown attribute");
    }

    [TestMethod]
    public void Parse_NlmsgErrorZero_AcknowledgementEndsTheDump()
    {
        var progress = CtnetlinkParser.Parse(Error(Seq, 0), Seq, new List<TrackedFlow>());

        Assert.IsTrue(progress.Done);
    }

    [TestMethod]
    public void Parse_DoneWithNegativeStatus_ThrowsNetlinkException()
    {
        var e = Assert.ThrowsExactly<NetlinkException>(() => CtnetlinkParser.Parse(Done(Seq, -12), Seq, new List<TrackedFlow>()));

        Assert.AreEqual(12, e.Errno);
    }

    [TestMethod]
    public void Parse_TruncatedAttribute_ThrowsInvalidDataNamingTheEntry()
    {
        byte[] good = Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established);
        byte[] bad = Entry(Seq, Tcp, Client4, 2, Vip4, 8080, Established);
        // The first attribute (CTA_TUPLE_ORIG) claims more bytes than its message holds.
        BinaryPrimitives.WriteUInt16LittleEndian(bad.AsSpan(20), 0x7ff0);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.Parse(Concat(good, bad), Seq, new List<TrackedFlow>()));

        StringAssert.Contains(e.Message, $"Conntrack entry at byte {good.Length}");
        StringAssert.Contains(e.Message, "claims");
    }

    [TestMethod]
    public void Parse_AttributeShorterThanItsHeader_ThrowsInvalidData()
    {
        byte[] bad = Entry(Seq, Tcp, Client4, 2, Vip4, 8080, Established);
        BinaryPrimitives.WriteUInt16LittleEndian(bad.AsSpan(20), 2);

        Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.Parse(bad, Seq, new List<TrackedFlow>()));
    }

    [TestMethod]
    public void Parse_WrongAddressLength_ThrowsInvalidDataNamingTheAttribute()
    {
        byte[] entry = Message(CtNewType, Multi, Seq, Concat(
            NfGenMsg(System.Net.Sockets.AddressFamily.InterNetwork),
            Nest(1, Nest(1, Attr(1, 198, 18, 1), Attr(2, 198, 18, 0, 100)), Nest(2, Attr(1, Tcp), Attr(2, BigEndian16(1)), Attr(3, BigEndian16(2))))));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.Parse(entry, Seq, new List<TrackedFlow>()));

        StringAssert.Contains(e.Message, "CTA_IP_V4_SRC has 3 bytes instead of 4");
    }

    [TestMethod]
    public void Parse_TcpEntryWithoutPorts_ThrowsInvalidData()
    {
        byte[] entry = Message(CtNewType, Multi, Seq, Concat(
            NfGenMsg(System.Net.Sockets.AddressFamily.InterNetwork),
            Nest(1, Nest(1, Attr(1, Client4.GetAddressBytes()), Attr(2, Vip4.GetAddressBytes())), Nest(2, Attr(1, Tcp)))));

        var e = Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.Parse(entry, Seq, new List<TrackedFlow>()));

        StringAssert.Contains(e.Message, "lacks its original source or destination port");
    }

    [TestMethod]
    public void Parse_MessageLongerThanDatagram_ThrowsInvalidData()
    {
        byte[] entry = Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.Parse(entry.AsSpan(0, entry.Length - 8), Seq, new List<TrackedFlow>()));

        StringAssert.Contains(e.Message, "Netlink message at byte 0 claims");
    }

    [TestMethod]
    public void Parse_StrayBytesAfterLastMessage_ThrowsInvalidData()
    {
        byte[] datagram = Concat(Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established), new byte[8]);

        Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.Parse(datagram, Seq, new List<TrackedFlow>()));
    }

    [TestMethod]
    public void Parse_EmptyDatagram_NothingAndNotDone()
    {
        var flows = new List<TrackedFlow>();

        var progress = CtnetlinkParser.Parse([], Seq, flows);

        Assert.IsFalse(progress.Done);
        Assert.IsEmpty(flows);
    }

    [TestMethod]
    public void ParseLookupReplies_EntryAndEnoent_AnswerTheirLookupsBySequence()
    {
        var results = new TrackedFlow?[3];
        var answered = new bool[3];

        // Out of request order on purpose: answers are placed by sequence number, not by arrival.
        int count = CtnetlinkParser.ParseLookupReplies(
            Concat(Entry(Seq + 2, Tcp, Client4, 3, Vip4, 8080, TimeWait, type: CtNewType), Error(Seq, 2)),
            Seq,
            results,
            answered);

        Assert.AreEqual(2, count);
        CollectionAssert.AreEqual(new[] { true, false, true }, answered);
        Assert.IsNull(results[0], "ENOENT: the table no longer has the flow");
        Assert.AreEqual(new TrackedFlow(TransportProtocol.Tcp, Client4, 3, Vip4, 8080, Live: false), results[2]);
    }

    [TestMethod]
    public void ParseLookupReplies_OtherSequencesAndRepeatedAnswers_Ignored()
    {
        var results = new TrackedFlow?[2];
        var answered = new bool[2];

        int count = CtnetlinkParser.ParseLookupReplies(
            Concat(
                Entry(Seq - 1, Udp, Client4, 1, Vip4, 5353),
                Error(Seq - 1, 1),
                Entry(Seq + 2, Udp, Client4, 2, Vip4, 5353),
                Entry(Seq + 1, Udp, Client4, 3, Vip4, 5353),
                Error(Seq + 1, 2),
                Done(Seq)),
            Seq,
            results,
            answered);

        Assert.AreEqual(1, count);
        CollectionAssert.AreEqual(new[] { false, true }, answered);
        Assert.AreEqual(3, results[1]!.Value.SourcePort, "the first answer counts");
    }

    [TestMethod]
    public void ParseLookupReplies_ErrorOtherThanEnoent_ThrowsNetlinkExceptionWithErrno()
    {
        var e = Assert.ThrowsExactly<NetlinkException>(() => CtnetlinkParser.ParseLookupReplies(Error(Seq, 1), Seq, new TrackedFlow?[1], new bool[1]));

        Assert.AreEqual(1, e.Errno);
        StringAssert.Contains(e.Message, "conntrack lookup failed");
        StringAssert.Contains(e.Message, "CAP_NET_ADMIN");
    }

    [TestMethod]
    public void ParseLookupReplies_BareAcknowledgement_ThrowsInvalidData()
    {
        Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.ParseLookupReplies(Error(Seq, 0), Seq, new TrackedFlow?[1], new bool[1]));
    }

    [TestMethod]
    public void ParseLookupReplies_SequenceWrapsAround_StillMatched()
    {
        var results = new TrackedFlow?[2];
        var answered = new bool[2];

        CtnetlinkParser.ParseLookupReplies(Error(0, 2), uint.MaxValue, results, answered);

        CollectionAssert.AreEqual(new[] { false, true }, answered);
    }

    [TestMethod]
    public void ParseLookupReplies_TruncatedMessage_ThrowsInvalidData()
    {
        byte[] entry = Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established);

        Assert.ThrowsExactly<InvalidDataException>(() => CtnetlinkParser.ParseLookupReplies(entry.AsSpan(0, entry.Length - 8), Seq, new TrackedFlow?[1], new bool[1]));
    }

    [TestMethod]
    public void EndsDump_DoneOrErrorOfThatSequence_True()
    {
        Assert.IsTrue(CtnetlinkParser.EndsDump(Concat(Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established), Done(Seq)), Seq));
        Assert.IsTrue(CtnetlinkParser.EndsDump(Error(Seq, 16), Seq));
        Assert.IsFalse(CtnetlinkParser.EndsDump(Concat(Entry(Seq, Tcp, Client4, 1, Vip4, 8080, Established), Done(Seq + 1)), Seq));
        Assert.IsTrue(CtnetlinkParser.EndsDump(new byte[5], Seq), "broken framing: nothing more to learn");
    }
}
