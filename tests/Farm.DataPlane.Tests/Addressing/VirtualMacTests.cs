namespace Farm.DataPlane.Tests.Addressing;

[TestClass]
public sealed class VirtualMacTests
{
    [TestMethod]
    public void For_Ipv4Vip_IsLocallyAdministeredUnicastHoldingTheAddress()
    {
        var mac = VirtualMac.For(IPAddress.Parse("198.18.0.100"));

        Assert.AreEqual("02:46:c6:12:00:64", VirtualMac.Format(mac));
    }

    [TestMethod]
    public void For_Ipv6Vip_IsDeterministicLocallyAdministeredUnicast()
    {
        var a = VirtualMac.For(IPAddress.Parse("2001:db8::100"));
        var b = VirtualMac.For(IPAddress.Parse("2001:db8::100"));
        var other = VirtualMac.For(IPAddress.Parse("2001:db8:1::100"));

        Assert.AreEqual(a, b);
        Assert.AreNotEqual(a, other);
        byte first = a.GetAddressBytes()[0];
        Assert.AreEqual(0x02, first & 0x02, "locally administered");
        Assert.AreEqual(0, first & 0x01, "unicast");
    }
}
