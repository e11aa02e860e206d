using System.Net;
using System.Net.Http.Headers;
using Farm.Rpc.Protocol;
using Farm.Rpc.Tests.Interop;
using Farm.Rpc.Tests.TestSupport;
using Google.Protobuf;

namespace Farm.Rpc.Tests.Server;

/// <summary>The server's wire behaviour, checked with raw HTTP/2 requests that bypass the Farm.Rpc client.</summary>
[TestClass]
public sealed class RpcServerTests
{
    private const string UnaryPath = "/farm.interop.v1.Echo/Unary";

    [TestMethod]
    public async Task Post_ValidUnary_SendsMessageThenStatusInTrailers()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, Frame(new EchoRequest { Text = "raw" }));
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.IsFalse(response.Headers.Contains("grpc-status"));
        Assert.AreEqual("raw", EchoReply.Parser.ParseFrom(body.AsSpan(MessageFraming.HeaderSize).ToArray()).Text);
        Assert.AreEqual("0", Single(response.TrailingHeaders, "grpc-status"));
    }

    [TestMethod]
    public async Task Post_HandlerFailsBeforeAnyMessage_SendsTrailersOnly()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, Frame(new EchoRequest { FailWithCode = 5, FailMessage = "gone 100%" }));
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.AreEqual("5", Single(response.Headers, "grpc-status"));
        Assert.AreEqual("gone 100%25", Single(response.Headers, "grpc-message"));
        Assert.AreEqual(0, body.Length);
        Assert.IsFalse(response.TrailingHeaders.Any(), "a Trailers-Only response has a single HEADERS frame");
    }

    [TestMethod]
    public async Task Post_TruncatedFrame_ReturnsInternal()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, [0, 0, 0, 0, 10, 1, 2, 3]);

        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
        StringAssert.Contains(Single(response.Headers, "grpc-message"), "ended inside");
        Assert.IsNull(server.Echo.LastContext);
    }

    [TestMethod]
    public async Task Post_TruncatedPrefix_ReturnsInternal()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, [0, 0, 0]);

        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
    }

    [TestMethod]
    public async Task Post_EmptyBody_ReturnsInternal()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, []);

        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
        StringAssert.Contains(Single(response.Headers, "grpc-message"), "without a message");
    }

    [TestMethod]
    public async Task Post_TwoMessagesToUnaryMethod_ReturnsInternal()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();
        byte[] one = Frame(new EchoRequest { Text = "a" });

        using var response = await PostAsync(http, UnaryPath, [.. one, .. one]);

        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
    }

    [TestMethod]
    public async Task Post_GarbageMessage_ReturnsInternal()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, [0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF]);

        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
        StringAssert.Contains(Single(response.Headers, "grpc-message"), "deserialize");
    }

    [TestMethod]
    public async Task Post_CompressedFlagWithoutEncoding_ReturnsInternal()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();
        byte[] frame = Frame(new EchoRequest { Text = "z" });
        frame[0] = 1;

        using var response = await PostAsync(http, UnaryPath, frame);

        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
        StringAssert.Contains(Single(response.Headers, "grpc-message"), "compressed");
    }

    [TestMethod]
    public async Task Post_GzipEncoding_ReturnsUnimplementedAndAdvertisesIdentity()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, Frame(new EchoRequest()), request => request.Headers.Add("grpc-encoding", "gzip"));

        Assert.AreEqual("12", Single(response.Headers, "grpc-status"));
        Assert.AreEqual("identity", Single(response.Headers, "grpc-accept-encoding"));
    }

    [TestMethod]
    public async Task Post_WrongContentType_Returns415()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, Frame(new EchoRequest()), contentType: "application/json");

        Assert.AreEqual(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.IsNull(server.Echo.LastContext);
    }

    [TestMethod]
    public async Task Post_GrpcProtoContentType_IsAccepted()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, Frame(new EchoRequest { Text = "p" }), contentType: "application/grpc+proto");
        await response.Content.ReadAsByteArrayAsync();

        Assert.AreEqual("0", Single(response.TrailingHeaders, "grpc-status"));
    }

    [TestMethod]
    public async Task Post_Http11OverTls_Returns426()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.Tls);
        using var http = server.CreateRawHttpClient();
        http.DefaultRequestVersion = HttpVersion.Version11;

        using var response = await PostAsync(http, UnaryPath, Frame(new EchoRequest()));

        Assert.AreEqual(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.IsNull(server.Echo.LastContext);
    }

    [TestMethod]
    [DataRow("1.5S")]
    [DataRow("123456789m")]
    [DataRow("10x")]
    public async Task Post_InvalidTimeout_ReturnsInternal(string timeout)
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, UnaryPath, Frame(new EchoRequest()), request => request.Headers.Add("grpc-timeout", timeout));

        Assert.AreEqual("13", Single(response.Headers, "grpc-status"));
    }

    [TestMethod]
    public async Task Post_HandlerIgnoresItsToken_ServerStillAnswersDeadlineExceededOnTime()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();
        var request = new EchoRequest { Text = EchoService.IgnoreTokenText, DelayMs = 30_000 };
        long started = TimeProvider.System.GetTimestamp();

        // No local deadline here: only the server can end this call.
        using var response = await PostAsync(http, UnaryPath, Frame(request), r => r.Headers.Add("grpc-timeout", "200m"));
        TimeSpan elapsed = TimeProvider.System.GetElapsedTime(started);

        Assert.AreEqual("4", Single(response.Headers, "grpc-status"));
        Assert.IsTrue(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed}");
    }

    [TestMethod]
    public async Task Post_StreamDeadlineAfterMessages_SendsDeadlineExceededInTrailers()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();
        var request = new StreamRequest { Text = "d", Count = 3, DelayMs = 30_000 };

        using var response = await PostAsync(http, "/farm.interop.v1.Echo/Stream", Frame(request), r => r.Headers.Add("grpc-timeout", "1S"));
        byte[] body = await response.Content.ReadAsByteArrayAsync();

        Assert.AreEqual(MessageFraming.HeaderSize + new EchoReply { Text = "d:0" }.CalculateSize(), body.Length);
        Assert.AreEqual("4", Single(response.TrailingHeaders, "grpc-status"));
    }

    [TestMethod]
    public async Task Post_UnknownPathWithoutGrpcContentType_Returns404()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await PostAsync(http, "/some/page", [], contentType: "text/plain");

        Assert.AreEqual(HttpStatusCode.NotFound, response.StatusCode);
    }

    [TestMethod]
    public async Task Get_RegisteredMethod_Returns405()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var http = server.CreateRawHttpClient();

        using var response = await http.GetAsync(new Uri(UnaryPath, UriKind.Relative));

        Assert.AreEqual(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    private static byte[] Frame(IMessage message) => MessageFraming.Frame(message, null);

    private static async Task<HttpResponseMessage> PostAsync(
        HttpClient http,
        string path,
        byte[] body,
        Action<HttpRequestMessage>? configure = null,
        string contentType = "application/grpc")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Version = http.DefaultRequestVersion,
            VersionPolicy = http.DefaultVersionPolicy,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TE.ParseAdd("trailers");
        configure?.Invoke(request);
        return await http.SendAsync(request).WithTimeout();
    }

    private static string Single(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.Single() : throw new AssertFailedException($"Header {name} is missing.");
}
