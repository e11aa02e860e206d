using Farm.Rpc.Tests.Interop;

namespace Farm.Rpc.Tests;

[TestClass]
public sealed class RpcMethodTests
{
    [TestMethod]
    public void FullName_ServiceAndMethod_IsHttp2Path()
    {
        var method = new RpcMethod<EchoRequest, EchoReply>("farm.v1.Membership", "Heartbeat", EchoRequest.Parser, EchoReply.Parser);

        Assert.AreEqual("/farm.v1.Membership/Heartbeat", method.FullName);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("a/b")]
    [DataRow("sp ace")]
    public void Constructor_InvalidServiceName_Throws(string name)
    {
        Assert.ThrowsExactly<ArgumentException>(() => new RpcMethod<EchoRequest, EchoReply>(name, "M", EchoRequest.Parser, EchoReply.Parser));
    }
}
