using System.Net;
using System.Net.Http.Headers;
using Farm.Rpc.Client;
using Farm.Rpc.Protocol;
using Farm.Rpc.Tests.TestSupport;

namespace Farm.Rpc.Tests.Interop;

/// <summary>The Farm.Rpc client calls an @grpc/grpc-js server (interop/server.js) over h2c.</summary>
[TestClass]
public sealed class GrpcJsServerTests
{
    private static NodeServer? node;

    private static NodeServer Node => node ?? throw new InvalidOperationException("The node server did not start.");

    [ClassInitialize]
    public static async Task StartNodeServerAsync(TestContext context)
    {
        node = await NodeFixture.StartServerAsync().WithTimeout();
    }

    [ClassCleanup]
    public static async Task StopNodeServerAsync()
    {
        if (node is not null)
        {
            await node.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task UnaryAsync_ToGrpcJs_EchoesTextAndMetadata()
    {
        using var client = CreateClient();

        EchoReply reply = await client.UnaryAsync(
            EchoMethods.Unary,
            new EchoRequest { Text = "from C# ✓", EchoMetadataKey = "x-farm-node" },
            new RpcMetadata().Add("x-farm-node", "node-b"),
            TimeProvider.System.GetUtcNow().AddSeconds(10)).WithTimeout();

        Assert.AreEqual("from C# ✓", reply.Text);
        Assert.AreEqual("node-b", reply.MetadataValue);
    }

    [TestMethod]
    public async Task ServerStreamingAsync_ToGrpcJs_YieldsAllMessagesInOrder()
    {
        using var client = CreateClient();

        List<EchoReply> replies = await client
            .ServerStreamingAsync(EchoMethods.Stream, new StreamRequest { Text = "j", Count = 20 })
            .ToListAsync().WithTimeout();

        CollectionAssert.AreEqual(Enumerable.Range(0, 20).Select(i => $"j:{i}").ToArray(), replies.Select(r => r.Text).ToArray());
    }

    [TestMethod]
    public async Task ServerStreamingAsync_ToGrpcJsFailingAfterMessages_YieldsMessagesThenThrows()
    {
        using var client = CreateClient();
        var received = new List<int>();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
        {
            var request = new StreamRequest { Count = 2, FailWithCode = (int)StatusCode.DataLoss, FailMessage = "lost ✗ 5%" };
            await foreach (EchoReply reply in client.ServerStreamingAsync(EchoMethods.Stream, request))
            {
                received.Add(reply.Index);
            }
        });

        CollectionAssert.AreEqual(new[] { 0, 1 }, received);
        Assert.AreEqual(StatusCode.DataLoss, ex.StatusCode);
        Assert.AreEqual("lost ✗ 5%", ex.Detail);
    }

    [TestMethod]
    public async Task UnaryAsync_ToGrpcJsError_ThrowsStatusFromTrailersOnlyResponse()
    {
        using var client = CreateClient();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(
            EchoMethods.Unary,
            new EchoRequest { FailWithCode = (int)StatusCode.NotFound, FailMessage = "nöt found 100%" }).WithTimeout());

        Assert.AreEqual(StatusCode.NotFound, ex.StatusCode);
        Assert.AreEqual("nöt found 100%", ex.Detail);
    }

    [TestMethod]
    public async Task RawPost_ToGrpcJsError_IsTrailersOnly()
    {
        // Pins down the premise of the test above: grpc-js answers a failed unary call with a single HEADERS frame.
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Node.Address, EchoMethods.Unary.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(MessageFraming.Frame(new EchoRequest { FailWithCode = 9, FailMessage = "x" }, null)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");

        using var response = await http.SendAsync(request).WithTimeout();
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        Assert.IsTrue(response.Headers.TryGetValues("grpc-status", out var status), "grpc-status in the response headers");
        Assert.AreEqual("9", status.Single());
        Assert.AreEqual(0, body.Length);
    }

    [TestMethod]
    public async Task UnaryAsync_ToGrpcJsDeadlineExpires_ThrowsDeadlineExceededAndServerCancels()
    {
        using var client = CreateClient();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(
            EchoMethods.Unary,
            new EchoRequest { DelayMs = 30_000 },
            deadline: TimeProvider.System.GetUtcNow().AddSeconds(1)).WithTimeout());

        Assert.AreEqual(StatusCode.DeadlineExceeded, ex.StatusCode);
        var cancelled = await Node.WaitForEventAsync("cancelled").WithTimeout();
        Assert.AreEqual("Unary", cancelled.GetProperty("method").GetString());
    }

    [TestMethod]
    public async Task UnaryAsync_ToGrpcJsUnknownMethod_ThrowsUnimplemented()
    {
        using var client = CreateClient();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(EchoMethods.Missing, new EchoRequest()).WithTimeout());

        Assert.AreEqual(StatusCode.Unimplemented, ex.StatusCode);
    }

    private static RpcClient CreateClient() => new(new RpcClientOptions { Address = Node.Address });
}
