namespace Farm.Rpc.Tests;

[TestClass]
public sealed class RpcMetadataTests
{
    [TestMethod]
    public void Add_MixedCaseKey_IsStoredLowercaseAndFoundIgnoringCase()
    {
        var metadata = new RpcMetadata { { "X-Farm-Node", "node-1" } };

        Assert.AreEqual("x-farm-node", metadata.Single().Key);
        Assert.AreEqual("node-1", metadata.GetValue("X-FARM-NODE"));
    }

    [TestMethod]
    [DataRow("grpc-timeout")]
    [DataRow("te")]
    [DataRow("content-type")]
    [DataRow(":path")]
    [DataRow("bad key")]
    public void Add_ReservedOrInvalidKey_Throws(string key)
    {
        Assert.ThrowsExactly<ArgumentException>(() => new RpcMetadata().Add(key, "v"));
    }

    [TestMethod]
    public void Add_NonAsciiTextValue_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new RpcMetadata().Add("x-name", "café"));
    }

    [TestMethod]
    public void Add_TextValueUnderBinaryKey_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new RpcMetadata().Add("x-mac-bin", "abc"));
    }

    [TestMethod]
    public void GetBytes_BinaryValue_RoundTrips()
    {
        byte[] mac = [0, 1, 2, 250, 255];
        var metadata = new RpcMetadata().Add("x-mac-bin", mac);

        CollectionAssert.AreEqual(mac, metadata.GetBytes("x-mac-bin"));
    }

    [TestMethod]
    public void GetBytes_UnpaddedBase64FromPeer_Decodes()
    {
        var metadata = new RpcMetadata();
        metadata.AddReceived("x-mac-bin", "AAEC+v8");

        CollectionAssert.AreEqual(new byte[] { 0, 1, 2, 250, 255 }, metadata.GetBytes("x-mac-bin"));
    }

    [TestMethod]
    public void GetValues_RepeatedKey_ReturnsAllInOrder()
    {
        var metadata = new RpcMetadata().Add("x-a", "1").Add("x-b", "2").Add("x-a", "3");

        CollectionAssert.AreEqual(new[] { "1", "3" }, metadata.GetValues("x-a").ToArray());
    }
}
