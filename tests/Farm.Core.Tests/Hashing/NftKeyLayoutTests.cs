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

    // IPv4: four network-order bytes; IPv6: sixteen; with the port: the port big-endian, padded to a 4-byte register;
    // an IPv4-mapped IPv6 key is written in the IPv4 layout.
    [TestMethod]
    [DataRow("198.18.1.2", 80, Affinity.ClientIp, "C6120102")]
    [DataRow("198.18.1.2", 0x1234, Affinity.ClientIpPort, "C6120102" + "12340000")]
    [DataRow("2001:db8:1:2:3:4:5:6", null, Affinity.ClientIp, "20010DB8000100020003000400050006")]
    [DataRow("2001:db8::ff", 65535, Affinity.ClientIpPort, "20010DB80000000000000000000000FF" + "FFFF0000")]
    [DataRow("::ffff:198.18.0.7", 1, Affinity.ClientIpPort, "C6120007" + "00010000")]
    public void Write_Key_AddressThenBigEndianPortPaddedToRegister(string address, int? port, Affinity affinity, string expected)
    {
        var key = new ClientKey(IPAddress.Parse(address), (ushort?)port);
        Assert.AreEqual(expected, Convert.ToHexString(Write(key, affinity)));
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
