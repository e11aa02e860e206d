using System.Net.Sockets;

namespace Farm.Core.Tests.Hashing;

[TestClass]
public sealed class ClientKeyTests
{
    [TestMethod]
    [DataRow("198.18.0.1", "198.18.0.1", null)]
    [DataRow(" 198.18.0.1 ", "198.18.0.1", null)]
    [DataRow("198.18.0.1:8080", "198.18.0.1", 8080)]
    [DataRow("198.18.0.1:65535", "198.18.0.1", 65535)]
    [DataRow("2001:db8::1", "2001:db8::1", null)]
    [DataRow("2001:db8::1:80", "2001:db8::1:80", null)]
    [DataRow("[2001:db8::1]", "2001:db8::1", null)]
    [DataRow("[2001:db8::1]:443", "2001:db8::1", 443)]
    [DataRow("::ffff:198.18.0.1", "198.18.0.1", null)]
    [DataRow("[::ffff:198.18.0.1]:80", "198.18.0.1", 80)]
    public void TryParse_ValidText_ReturnsAddressAndPort(string text, string address, int? port)
    {
        Assert.IsTrue(ClientKey.TryParse(text, out var key));
        Assert.AreEqual(IPAddress.Parse(address), key.Address);
        Assert.AreEqual(port is null ? null : (ushort?)port, key.Port);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("   ")]
    [DataRow("hello")]
    [DataRow("10")]
    [DataRow("1.2.3")]
    [DataRow("0x7f.1")]
    [DataRow("1.2.3.4.5")]
    [DataRow("256.1.1.1")]
    [DataRow("1.2.3.4:")]
    [DataRow("1.2.3.4:65536")]
    [DataRow("1.2.3.4:-1")]
    [DataRow("1.2.3.4:http")]
    [DataRow("1.2.3.4/24")]
    [DataRow("[1.2.3.4]:80")]
    [DataRow("[2001:db8::1]:")]
    [DataRow("[2001:db8::1]80")]
    [DataRow("[2001:db8::1")]
    [DataRow("fe80::1%eth0")]
    [DataRow("2001:db8::g")]
    public void TryParse_Garbage_ReturnsFalse(string text)
    {
        Assert.IsFalse(ClientKey.TryParse(text, out _), text);
    }

    [TestMethod]
    public void Constructor_IPv4MappedAddress_NormalizesToIPv4()
    {
        var key = new ClientKey(IPAddress.Parse("::ffff:198.18.3.4"), 7);
        Assert.AreEqual(AddressFamily.InterNetwork, key.Address.AddressFamily);
        Assert.AreEqual(IPAddress.Parse("198.18.3.4"), key.Address);
        Assert.IsFalse(key.IsIPv6);
        Assert.AreEqual(new ClientKey(IPAddress.Parse("198.18.3.4"), 7), key);
    }

    [TestMethod]
    public void Constructor_NullAddress_Throws()
    {
        Assert.ThrowsExactly<ArgumentNullException>(() => new ClientKey(null!));
    }

    [TestMethod]
    [DataRow("198.18.0.1")]
    [DataRow("198.18.0.1:80")]
    [DataRow("2001:db8::1")]
    [DataRow("[2001:db8::1]:80")]
    public void ToString_ParsedKey_RoundTrips(string text)
    {
        Assert.IsTrue(ClientKey.TryParse(text, out var key));
        Assert.AreEqual(text, key.ToString());
        Assert.IsTrue(ClientKey.TryParse(key.ToString(), out var again));
        Assert.AreEqual(key, again);
    }
}
