using Farm.Rpc.Server;
using Farm.Rpc.Tests.Interop;
using Farm.Rpc.Tests.TestSupport;

namespace Farm.Rpc.Tests.Server;

[TestClass]
public sealed class RpcEndpointRouteBuilderExtensionsTests
{
    private static readonly RpcMethod<EchoRequest, EchoReply> OtherUnary =
        new("farm.test.Other", "Shout", EchoRequest.Parser, EchoReply.Parser);

    [TestMethod]
    public async Task MapRpcService_CalledTwice_ServesBothAndKeepsUnknownMethodsUnimplemented()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c, mapMore: endpoints =>
            endpoints.MapRpcService(service => service.AddUnary(OtherUnary, (request, _) =>
                Task.FromResult(new EchoReply { Text = request.Text.ToUpperInvariant() }))));
        using var client = server.CreateClient();

        EchoReply echo = await client.UnaryAsync(EchoMethods.Unary, new EchoRequest { Text = "a" }).WithTimeout();
        EchoReply other = await client.UnaryAsync(OtherUnary, new EchoRequest { Text = "b" }).WithTimeout();
        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(EchoMethods.Missing, new EchoRequest()).WithTimeout());

        Assert.AreEqual("a", echo.Text);
        Assert.AreEqual("B", other.Text);
        Assert.AreEqual(StatusCode.Unimplemented, ex.StatusCode);
    }

    [TestMethod]
    public void AddUnary_SameMethodTwice_Throws()
    {
        var builder = new RpcServiceBuilder();
        builder.AddUnary(OtherUnary, (r, _) => Task.FromResult(new EchoReply()));

        Assert.ThrowsExactly<InvalidOperationException>(() => builder.AddUnary(OtherUnary, (r, _) => Task.FromResult(new EchoReply())));
    }
}
