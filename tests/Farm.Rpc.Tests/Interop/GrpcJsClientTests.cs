using System.Text.Json;
using Farm.Rpc.Tests.TestSupport;

namespace Farm.Rpc.Tests.Interop;

/// <summary>@grpc/grpc-js (interop/client.js) calls the Farm.Rpc server over h2c.</summary>
[TestClass]
public sealed class GrpcJsClientTests
{
    [TestMethod]
    public async Task Unary_FromGrpcJs_EchoesTextAndMetadata()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);

        JsonElement result = await RunAsync(server, "unary");

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        JsonElement reply = result.GetProperty("replies").EnumerateArray().Single();
        Assert.AreEqual("héllo from node ✓", reply.GetProperty("text").GetString());
        Assert.AreEqual("node-metadata", reply.GetProperty("metadataValue").GetString());
        StringAssert.StartsWith(server.Echo.LastContext!.RequestHeaders.GetValue("user-agent"), "grpc-node-js");
    }

    [TestMethod]
    public async Task Unary_FromGrpcJsOverTls_EchoesText()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.Tls);
        string caFile = Path.Combine(Path.GetTempPath(), $"farm-rpc-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(caFile, TestCertificates.ServerCertificate.ExportCertificatePem());
        try
        {
            JsonElement result = await NodeFixture.RunClientAsync($"localhost:{server.Address.Port}", "unary", caFile).WithTimeout();

            Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
            Assert.AreEqual("héllo from node ✓", result.GetProperty("replies")[0].GetProperty("text").GetString());
        }
        finally
        {
            File.Delete(caFile);
        }
    }

    [TestMethod]
    public async Task Stream_FromGrpcJsOverUnixSocket_ReceivesAllMessages()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.Uds);

        JsonElement result = await NodeFixture.RunClientAsync($"unix:{server.SocketPath}", "stream").WithTimeout();

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        Assert.AreEqual(5, result.GetProperty("replies").GetArrayLength());
    }

    [TestMethod]
    public async Task Stream_FromGrpcJs_ReceivesAllMessagesInOrder()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);

        JsonElement result = await RunAsync(server, "stream");

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        CollectionAssert.AreEqual(
            new[] { "n:0", "n:1", "n:2", "n:3", "n:4" },
            result.GetProperty("replies").EnumerateArray().Select(r => r.GetProperty("text").GetString()).ToArray());
    }

    [TestMethod]
    public async Task StreamError_FromGrpcJs_ReceivesMessagesThenStatusInTrailers()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);

        JsonElement result = await RunAsync(server, "stream-error");

        Assert.AreEqual((int)StatusCode.FailedPrecondition, result.GetProperty("code").GetInt32(), result.ToString());
        Assert.AreEqual("precondition 50% failed", result.GetProperty("details").GetString());
        Assert.AreEqual(2, result.GetProperty("replies").GetArrayLength());
    }

    [TestMethod]
    public async Task Deadline_FromGrpcJs_DeadlineExceededAndHandlerCancelled()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);

        JsonElement result = await RunAsync(server, "deadline");

        Assert.AreEqual((int)StatusCode.DeadlineExceeded, result.GetProperty("code").GetInt32(), result.ToString());
        await server.Echo.HandlerCancelled.Task.WithTimeout();
        Assert.IsNotNull(server.Echo.LastContext!.Deadline, "grpc-js sent grpc-timeout and the server parsed it");
    }

    [TestMethod]
    public async Task Error_FromGrpcJs_StatusAndNonAsciiDetailRoundTrip()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);

        JsonElement result = await RunAsync(server, "error");

        Assert.AreEqual((int)StatusCode.PermissionDenied, result.GetProperty("code").GetInt32(), result.ToString());
        Assert.AreEqual("denied: ünïcödé 100% ✓ line\nbreak", result.GetProperty("details").GetString());
    }

    [TestMethod]
    public async Task UnknownMethod_FromGrpcJs_Unimplemented()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);

        JsonElement result = await RunAsync(server, "unknown");

        Assert.AreEqual((int)StatusCode.Unimplemented, result.GetProperty("code").GetInt32(), result.ToString());
    }

    private static Task<JsonElement> RunAsync(RpcTestServer server, string scenario) =>
        NodeFixture.RunClientAsync($"127.0.0.1:{server.Address.Port}", scenario).WithTimeout();
}
