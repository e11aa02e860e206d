namespace Farm.Daemon.Tests.Transport;

[TestClass]
public sealed class FlowKeyCodecTests
{
    [TestMethod]
    public void Encode_Ipv4Key_LengthAddressAndBigEndianPort()
    {
        byte[] bytes = FlowKeyCodec.Encode([new FlowKey(IPAddress.Parse("198.18.1.2"), 0x1234)]);

        CollectionAssert.AreEqual(new byte[] { 4, 198, 18, 1, 2, 0x12, 0x34 }, bytes);
    }

    [TestMethod]
    public void EncodeDecode_MixedFamilies_RoundTripInOrder()
    {
        FlowKey[] keys =
        [
            new(IPAddress.Parse("198.18.1.2"), 0),
            new(IPAddress.Parse("2001:db8::1:2"), 65535),
            new(IPAddress.Parse("198.19.255.255"), 5353),
            new(IPAddress.Parse("2001:db8:ffff::1"), 1),
        ];

        byte[] bytes = FlowKeyCodec.Encode(keys);
        var decoded = FlowKeyCodec.Decode(bytes);

        Assert.AreEqual(2 * 7 + 2 * 19, bytes.Length);
        CollectionAssert.AreEqual(keys, decoded.ToArray());
    }

    [TestMethod]
    public void EncodeDecode_Empty_EmptyBytesAndEmptyList()
    {
        byte[] bytes = FlowKeyCodec.Encode([]);

        Assert.IsEmpty(bytes);
        Assert.IsEmpty(FlowKeyCodec.Decode(bytes));
    }

    [TestMethod]
    public void Encode_PortOutOfRangeOrNoAddress_ThrowsArgumentException()
    {
        Assert.ThrowsExactly<ArgumentException>(() => FlowKeyCodec.Encode([new FlowKey(IPAddress.Parse("198.18.1.2"), 65536)]));
        Assert.ThrowsExactly<ArgumentException>(() => FlowKeyCodec.Encode([new FlowKey(IPAddress.Parse("198.18.1.2"), -1)]));
        Assert.ThrowsExactly<ArgumentException>(() => FlowKeyCodec.Encode([default]));
    }

    [TestMethod]
    [DataRow(new byte[] { 4, 198, 18, 1 }, "truncated", DisplayName = "address cut")]
    [DataRow(new byte[] { 4, 198, 18, 1, 2, 0x12 }, "truncated", DisplayName = "port cut")]
    [DataRow(new byte[] { 4, 198, 18, 1, 2, 0x12, 0x34, 16, 0x20 }, "Flow key 1 at byte 7 is truncated", DisplayName = "second entry cut")]
    [DataRow(new byte[] { 5, 1, 2, 3, 4, 5, 0, 1 }, "address length 5", DisplayName = "bad length")]
    [DataRow(new byte[] { 0 }, "address length 0", DisplayName = "zero length")]
    public void Decode_InvalidInput_ThrowsFormatExceptionSayingWhere(byte[] bytes, string expected)
    {
        var e = Assert.ThrowsExactly<FormatException>(() => FlowKeyCodec.Decode(bytes));

        StringAssert.Contains(e.Message, expected);
    }
}
