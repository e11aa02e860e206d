namespace Farm.Core.Tests.Hashing;

[TestClass]
public sealed class NftKeyLayoutTests
{
    private static byte[] Write(ClientKey key, Affinity affinity)
    {
        byte[] buffer = new byte[NftKeyLayout.MaxLength];
        buffer.AsSpan().Fill(0xAA); // so a byte the layout forgets to write shows up
        int length = NftKeyLayout.Write(key, affinity, buffer);
        return buffer[..length];
    }

    [TestMethod]
    public void Write_IPv4Address_FourNetworkOrderBytes()
    {
        var key = new ClientKey(IPAddress.Parse("198.18.1.2"), 80);
        CollectionAssert.AreEqual(new byte[] { 198, 18, 1, 2 }, Write(key, Affinity.ClientIp));
    }

    [TestMethod]
    public void Write_IPv4AddressAndPort_AddressThenBigEndianPortPaddedToRegister()
    {
        var key = new ClientKey(IPAddress.Parse("198.18.1.2"), 0x1234);
        CollectionAssert.AreEqual(new byte[] { 198, 18, 1, 2, 0x12, 0x34, 0, 0 }, Write(key, Affinity.ClientIpPort));
    }

    [TestMethod]
    public void Write_IPv6Address_SixteenNetworkOrderBytes()
    {
        var key = new ClientKey(IPAddress.Parse("2001:db8:1:2:3:4:5:6"));
        CollectionAssert.AreEqual(
            new byte[] { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6 },
            Write(key, Affinity.ClientIp));
    }

    [TestMethod]
    public void Write_IPv6AddressAndPort_TwentyBytesWithPaddedPort()
    {
        var key = new ClientKey(IPAddress.Parse("2001:db8::ff"), 65535);
        CollectionAssert.AreEqual(
            new byte[] { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0, 0 },
            Write(key, Affinity.ClientIpPort));
    }

    [TestMethod]
    public void Write_IPv4MappedIPv6Key_WritesIPv4Layout()
    {
        var key = new ClientKey(IPAddress.Parse("::ffff:198.18.0.7"), 1);
        CollectionAssert.AreEqual(new byte[] { 198, 18, 0, 7, 0, 1, 0, 0 }, Write(key, Affinity.ClientIpPort));
    }

    [TestMethod]
    public void Write_PortAffinityWithoutPort_ThrowsNamingTheKey()
    {
        var key = new ClientKey(IPAddress.Parse("198.18.0.1"));
        var e = Assert.ThrowsExactly<ArgumentException>(() => NftKeyLayout.Write(key, Affinity.ClientIpPort, new byte[NftKeyLayout.MaxLength]));
        StringAssert.Contains(e.Message, "198.18.0.1");
    }

    [TestMethod]
    public void Write_DestinationTooSmall_Throws()
    {
        var key = new ClientKey(IPAddress.Parse("2001:db8::1"));
        Assert.ThrowsExactly<ArgumentException>(() => NftKeyLayout.Write(key, Affinity.ClientIp, new byte[8]));
    }

    [TestMethod]
    public void WritePort_Port_BigEndianThenTwoZeroBytes()
    {
        byte[] buffer = [0xAA, 0xAA, 0xAA, 0xAA];
        Assert.AreEqual(4, NftKeyLayout.WritePort(443, buffer));
        CollectionAssert.AreEqual(new byte[] { 0x01, 0xbb, 0, 0 }, buffer);
    }
}
