namespace Farm.EndToEnd.Tests.Harness;

[TestClass]
public sealed class TestAddressesTests
{
    [TestMethod]
    [DataRow("198.18.0.0")]
    [DataRow("198.19.255.255")]
    [DataRow("2001:db8::1")]
    [DataRow("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")]
    [DataRow("::ffff:198.18.0.1")]
    public void IsAllowed_AddressInTestRanges_True(string address)
    {
        Assert.IsTrue(TestAddresses.IsAllowed(IPAddress.Parse(address)));
    }

    [TestMethod]
    [DataRow("198.17.255.255")]
    [DataRow("198.20.0.0")]
    [DataRow("10.0.0.1")]
    [DataRow("127.0.0.1")]
    [DataRow("0.0.0.0")]
    [DataRow("2001:db9::1")]
    [DataRow("2001:db7:ffff::1")]
    [DataRow("::1")]
    [DataRow("fe80::1")]
    public void Require_AddressOutsideTestRanges_Throws(string address)
    {
        Assert.IsFalse(TestAddresses.IsAllowed(IPAddress.Parse(address)));
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TestAddresses.Require(IPAddress.Parse(address)));
        StringAssert.Contains(e.Message, "198.18.0.0/15");
    }

    [TestMethod]
    [DataRow("198.18.0.0/15", true)]
    [DataRow("198.18.4.0/24", true)]
    [DataRow("198.16.0.0/14", false)]
    [DataRow("2001:db8:1::/64", true)]
    [DataRow("2001:db8::/31", false)]
    [DataRow("10.0.0.0/8", false)]
    public void Require_Network_AcceptsOnlyPrefixesInsideTestRanges(string network, bool allowed)
    {
        var parsed = IPNetwork.Parse(network);
        if (allowed)
        {
            Assert.AreEqual(parsed, TestAddresses.Require(parsed));
        }
        else
        {
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => TestAddresses.Require(parsed));
        }
    }
}
