using static Farm.DataPlane.Tests.Conntrack.NetlinkMessages;

namespace Farm.DataPlane.Tests.Conntrack;

[TestClass]
public sealed class CtnetlinkRequestBuilderTests
{
    [TestMethod]
    public void TryAddLookup_Ipv4Tcp_ExactlyTheCtGetRequestOfTheOriginalTuple()
    {
        byte[] buffer = new byte[128];
        Array.Fill(buffer, (byte)0xaa); // stale bytes: padding must still come out zero
        var builder = new CtnetlinkRequestBuilder(buffer);

        bool added = builder.TryAddLookup(new TrackedFlow(TransportProtocol.Tcp, Client4, 40000, Vip4, 8080, Live: false), 0x01020304);

        byte[] expected =
        [
            0x48, 0x00, 0x00, 0x00, // nlmsg_len 72
            0x01, 0x01,             // nlmsg_type NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET
            0x01, 0x00,             // nlmsg_flags NLM_F_REQUEST: no dump, no ack
            0x04, 0x03, 0x02, 0x01, // nlmsg_seq
            0x00, 0x00, 0x00, 0x00, // nlmsg_pid: the kernel
            0x02, 0x00, 0x00, 0x00, // nfgenmsg: AF_INET, NFNETLINK_V0, res_id 0
            0x34, 0x00, 0x01, 0x80, // CTA_TUPLE_ORIG | NLA_F_NESTED, 52 bytes
            0x14, 0x00, 0x01, 0x80, //   CTA_TUPLE_IP | NLA_F_NESTED, 20 bytes
            0x08, 0x00, 0x01, 0x00, 198, 18, 1, 1,     // CTA_IP_V4_SRC
            0x08, 0x00, 0x02, 0x00, 198, 18, 0, 100,   // CTA_IP_V4_DST
            0x1c, 0x00, 0x02, 0x80, //   CTA_TUPLE_PROTO | NLA_F_NESTED, 28 bytes
            0x05, 0x00, 0x01, 0x00, 6, 0, 0, 0,        // CTA_PROTO_NUM tcp, 3 bytes padding
            0x06, 0x00, 0x02, 0x00, 0x9c, 0x40, 0, 0,  // CTA_PROTO_SRC_PORT 40000 big-endian
            0x06, 0x00, 0x03, 0x00, 0x1f, 0x90, 0, 0,  // CTA_PROTO_DST_PORT 8080 big-endian
        ];
        Assert.IsTrue(added);
        Assert.AreEqual(CtnetlinkRequestBuilder.Ipv4LookupLength, builder.Length);
        CollectionAssert.AreEqual(expected, builder.Written.ToArray());
        Assert.AreEqual(0xaa, buffer[72], "nothing written past the request");
    }

    [TestMethod]
    public void TryAddLookup_Ipv6Udp_ExactlyTheCtGetRequestOfTheOriginalTuple()
    {
        byte[] buffer = new byte[128];
        Array.Fill(buffer, (byte)0xaa);
        var builder = new CtnetlinkRequestBuilder(buffer);

        bool added = builder.TryAddLookup(new TrackedFlow(TransportProtocol.Udp, Client6, 65535, Vip6, 5353, Live: true), 7);

        byte[] expected =
        [
            0x60, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // nlmsghdr: 96 bytes, CT_GET, REQUEST, seq 7
            0x0a, 0x00, 0x00, 0x00, // nfgenmsg: AF_INET6
            0x4c, 0x00, 0x01, 0x80, // CTA_TUPLE_ORIG, 76 bytes
            0x2c, 0x00, 0x01, 0x80, //   CTA_TUPLE_IP, 44 bytes
            0x14, 0x00, 0x03, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x01, // CTA_IP_V6_SRC
            0x14, 0x00, 0x04, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x00, // CTA_IP_V6_DST
            0x1c, 0x00, 0x02, 0x80, //   CTA_TUPLE_PROTO, 28 bytes
            0x05, 0x00, 0x01, 0x00, 17, 0, 0, 0,       // CTA_PROTO_NUM udp
            0x06, 0x00, 0x02, 0x00, 0xff, 0xff, 0, 0,  // CTA_PROTO_SRC_PORT 65535
            0x06, 0x00, 0x03, 0x00, 0x14, 0xe9, 0, 0,  // CTA_PROTO_DST_PORT 5353
        ];
        Assert.IsTrue(added);
        Assert.AreEqual(CtnetlinkRequestBuilder.Ipv6LookupLength, builder.Length);
        CollectionAssert.AreEqual(expected, builder.Written.ToArray());
    }

    [TestMethod]
    public void TryAddDelete_Ipv4Tcp_TheLookupWithTypeCtDeleteAndAnAck()
    {
        var flow = new TrackedFlow(TransportProtocol.Tcp, Client4, 40000, Vip4, 8080, Live: true);
        byte[] lookup = new byte[128];
        byte[] delete = new byte[128];
        var lookups = new CtnetlinkRequestBuilder(lookup);
        var deletes = new CtnetlinkRequestBuilder(delete);

        Assert.IsTrue(lookups.TryAddLookup(flow, 9));
        Assert.IsTrue(deletes.TryAddDelete(flow, 9));

        byte[] expected = lookups.Written.ToArray();
        expected[4] = 0x02; // nlmsg_type NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE
        expected[6] = 0x05; // nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
        CollectionAssert.AreEqual(expected, deletes.Written.ToArray());
    }

    [TestMethod]
    public void TryAddLookup_SeveralFlows_BackToBackEachWithItsSequence()
    {
        var flows = new[]
        {
            new TrackedFlow(TransportProtocol.Tcp, Client4, 1, Vip4, 8080, Live: true),
            new TrackedFlow(TransportProtocol.Udp, Client6, 2, Vip6, 5353, Live: true),
            new TrackedFlow(TransportProtocol.Tcp, Client4, 3, Vip4, 8081, Live: true),
        };
        byte[] buffer = new byte[1024];
        var builder = new CtnetlinkRequestBuilder(buffer);

        for (int i = 0; i < flows.Length; i++)
        {
            Assert.IsTrue(builder.TryAddLookup(flows[i], 100 + (uint)i));
        }

        var messages = Messages(builder.Written.ToArray());
        Assert.AreEqual(72 + 96 + 72, builder.Length);
        CollectionAssert.AreEqual(new[] { 72, 96, 72 }, messages.Select(m => m.Length).ToArray());
        CollectionAssert.AreEqual(new uint[] { 100, 101, 102 }, messages.Select(SequenceOf).ToArray());
        // The request's tuple reads back, through the reply parser, as the flow asked for.
        CollectionAssert.AreEqual(flows, messages.Select(m => CtnetlinkParser.ParseEntry(m)!.Value).ToArray());
    }

    [TestMethod]
    public void TryAddLookup_NoRoomLeft_FalseAndNothingWritten()
    {
        byte[] buffer = new byte[CtnetlinkRequestBuilder.Ipv4LookupLength + CtnetlinkRequestBuilder.Ipv6LookupLength - 1];
        var builder = new CtnetlinkRequestBuilder(buffer);

        bool first = builder.TryAddLookup(new TrackedFlow(TransportProtocol.Tcp, Client4, 1, Vip4, 8080, Live: true), 1);
        bool second = builder.TryAddLookup(new TrackedFlow(TransportProtocol.Tcp, Client6, 1, Vip6, 8080, Live: true), 2);

        Assert.IsTrue(first);
        Assert.IsFalse(second);
        Assert.AreEqual(CtnetlinkRequestBuilder.Ipv4LookupLength, builder.Length);
        Assert.IsTrue(buffer.AsSpan(builder.Length).IndexOfAnyExcept((byte)0) < 0, "nothing written after the first request");
    }

    [TestMethod]
    public void TryAddLookup_Ipv4MappedAddresses_WrittenAsIpv4()
    {
        var mapped = new TrackedFlow(TransportProtocol.Tcp, Client4.MapToIPv6(), 40000, Vip4.MapToIPv6(), 8080, Live: true);
        var plain = mapped with { Source = Client4, Destination = Vip4 };
        byte[] a = new byte[128];
        byte[] b = new byte[128];
        var fromMapped = new CtnetlinkRequestBuilder(a);
        var fromPlain = new CtnetlinkRequestBuilder(b);

        fromMapped.TryAddLookup(mapped, 5);
        fromPlain.TryAddLookup(plain, 5);

        Assert.AreEqual(CtnetlinkRequestBuilder.Ipv4LookupLength, fromMapped.Length);
        CollectionAssert.AreEqual(b, a);
    }

    [TestMethod]
    [DataRow("tcp", "198.18.1.1", 1, "2001:db8::100", 8080, "different families")]
    [DataRow("tcp", "198.18.1.1", -1, "198.18.0.100", 8080, "outside 0-65535")]
    [DataRow("udp", "198.18.1.1", 1, "198.18.0.100", 65536, "outside 0-65535")]
    [DataRow("sctp", "198.18.1.1", 1, "198.18.0.100", 8080, "neither TCP nor UDP")]
    [DataRow("tcp", null, 1, "198.18.0.100", 8080, "address is missing")]
    public void ThrowIfNotLookupable_UnfitFlow_ThrowsNamingTheProblem(string protocol, string? source, int sourcePort, string destination, int destinationPort, string problem)
    {
        var flow = new TrackedFlow(
            protocol switch { "tcp" => TransportProtocol.Tcp, "udp" => TransportProtocol.Udp, _ => (TransportProtocol)99 },
            source is null ? null! : IPAddress.Parse(source),
            sourcePort,
            IPAddress.Parse(destination),
            destinationPort,
            Live: true);

        var e = Assert.ThrowsExactly<ArgumentException>(() => CtnetlinkRequestBuilder.ThrowIfNotLookupable(flow, "Flow 3"));

        StringAssert.Contains(e.Message, "Flow 3");
        StringAssert.Contains(e.Message, problem);
    }

    [TestMethod]
    public void LookupLength_ByFamily_72Or96()
    {
        Assert.AreEqual(72, CtnetlinkRequestBuilder.LookupLength(new TrackedFlow(TransportProtocol.Udp, Client4, 1, Vip4, 2, Live: true)));
        Assert.AreEqual(96, CtnetlinkRequestBuilder.LookupLength(new TrackedFlow(TransportProtocol.Udp, Client6, 1, Vip6, 2, Live: true)));
        Assert.AreEqual(72u, BinaryPrimitives.ReadUInt32LittleEndian(BuildOne(new TrackedFlow(TransportProtocol.Udp, Client4, 1, Vip4, 2, Live: true))));
    }

    private static byte[] BuildOne(TrackedFlow flow)
    {
        byte[] buffer = new byte[CtnetlinkRequestBuilder.Ipv6LookupLength];
        var builder = new CtnetlinkRequestBuilder(buffer);
        Assert.IsTrue(builder.TryAddLookup(flow, 1));
        return builder.Written.ToArray();
    }
}
