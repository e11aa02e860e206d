using Farm.Testing.Time;
using System.Net;
using System.Net.Sockets;
using Farm.Rpc.Client;
using Farm.Rpc.Tests.Interop;
using Farm.Rpc.Tests.TestSupport;
using Google.Protobuf;

namespace Farm.Rpc.Tests.Client;

/// <summary>Farm.Rpc client against the Farm.Rpc server over real sockets: h2c, TLS and Unix domain sockets.</summary>
[TestClass]
public sealed class RpcClientTests
{
    private const string NonAsciiDetail = "refusé: ünïcödé 100% ✓\nsecond line %41";

    [TestMethod]
    [DataRow(Transport.H2c)]
    [DataRow(Transport.Tls)]
    [DataRow(Transport.Uds)]
    public async Task UnaryAsync_OverTransport_EchoesTextAndMetadata(Transport transport)
    {
        await using var server = await RpcTestServer.StartAsync(transport);
        using var client = server.CreateClient();
        var metadata = new RpcMetadata().Add("x-farm-node", "node-a").Add("x-farm-mac-bin", [1, 2, 3, 255]);

        EchoReply reply = await client.UnaryAsync(
            EchoMethods.Unary,
            new EchoRequest { Text = "hello ✓", EchoMetadataKey = "x-farm-node" },
            metadata).WithTimeout();

        Assert.AreEqual("hello ✓", reply.Text);
        Assert.AreEqual("node-a", reply.MetadataValue);
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 255 }, server.Echo.LastContext!.RequestHeaders.GetBytes("x-farm-mac-bin"));
        Assert.IsNull(server.Echo.LastContext.RequestHeaders.GetValue("grpc-accept-encoding"), "reserved headers are not metadata");
        Assert.IsNull(server.Echo.LastContext.Deadline);
    }

    [TestMethod]
    [DataRow(Transport.H2c)]
    [DataRow(Transport.Tls)]
    [DataRow(Transport.Uds)]
    public async Task ServerStreamingAsync_OverTransport_YieldsAllMessagesInOrder(Transport transport)
    {
        await using var server = await RpcTestServer.StartAsync(transport);
        using var client = server.CreateClient();

        List<EchoReply> replies = await client
            .ServerStreamingAsync(EchoMethods.Stream, new StreamRequest { Text = "s", Count = 25, DelayMs = 1 })
            .ToListAsync().WithTimeout();

        CollectionAssert.AreEqual(
            Enumerable.Range(0, 25).Select(i => $"s:{i}").ToArray(),
            replies.Select(r => r.Text).ToArray());
    }

    [TestMethod]
    [DataRow(Transport.H2c)]
    [DataRow(Transport.Tls)]
    [DataRow(Transport.Uds)]
    public async Task UnaryAsync_DeadlineExpires_ThrowsDeadlineExceededAndCancelsHandler(Transport transport)
    {
        await using var server = await RpcTestServer.StartAsync(transport);
        using var client = server.CreateClient();
        DateTimeOffset deadline = TimeProvider.System.GetUtcNow().AddSeconds(1);

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.Unary, new EchoRequest { DelayMs = 60_000 }, deadline: deadline).WithTimeout());

        Assert.AreEqual(StatusCode.DeadlineExceeded, ex.StatusCode);
        await server.Echo.HandlerCancelled.Task.WithTimeout();
        Assert.IsNotNull(server.Echo.LastContext!.Deadline);
        Assert.IsTrue((server.Echo.LastContext.Deadline.Value - deadline).Duration() < TimeSpan.FromSeconds(1));
    }

    [TestMethod]
    [DataRow(Transport.H2c)]
    [DataRow(Transport.Tls)]
    [DataRow(Transport.Uds)]
    public async Task UnaryAsync_HandlerThrowsRpcException_StatusAndNonAsciiDetailRoundTrip(Transport transport)
    {
        await using var server = await RpcTestServer.StartAsync(transport);
        using var client = server.CreateClient();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(
            EchoMethods.Unary,
            new EchoRequest { FailWithCode = (int)StatusCode.PermissionDenied, FailMessage = NonAsciiDetail }).WithTimeout());

        Assert.AreEqual(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.AreEqual(NonAsciiDetail, ex.Detail);
    }

    [TestMethod]
    public async Task ServerStreamingAsync_HandlerFailsAfterMessages_YieldsMessagesThenThrowsStatus()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = server.CreateClient();
        var received = new List<string>();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
        {
            var request = new StreamRequest { Text = "x", Count = 3, FailWithCode = (int)StatusCode.Aborted, FailMessage = NonAsciiDetail };
            await foreach (EchoReply reply in client.ServerStreamingAsync(EchoMethods.Stream, request))
            {
                received.Add(reply.Text);
            }
        });

        CollectionAssert.AreEqual(new[] { "x:0", "x:1", "x:2" }, received);
        Assert.AreEqual(StatusCode.Aborted, ex.StatusCode);
        Assert.AreEqual(NonAsciiDetail, ex.Detail);
    }

    [TestMethod]
    [DataRow(Transport.H2c)]
    [DataRow(Transport.Uds)]
    public async Task UnaryAsync_UnknownMethod_ThrowsUnimplemented(Transport transport)
    {
        await using var server = await RpcTestServer.StartAsync(transport);
        using var client = server.CreateClient();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.Missing, new EchoRequest()).WithTimeout());

        Assert.AreEqual(StatusCode.Unimplemented, ex.StatusCode);
        StringAssert.Contains(ex.Detail, "/farm.interop.v1.Echo/NoSuchMethod");
    }

    [TestMethod]
    public async Task UnaryAsync_UnknownService_ThrowsUnimplemented()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = server.CreateClient();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.MissingService, new EchoRequest()).WithTimeout());

        Assert.AreEqual(StatusCode.Unimplemented, ex.StatusCode);
    }

    [TestMethod]
    [DataRow(Transport.H2c)]
    [DataRow(Transport.Tls)]
    public async Task UnaryAsync_RequestOverServerDefaultLimit_ThrowsResourceExhausted(Transport transport)
    {
        await using var server = await RpcTestServer.StartAsync(transport);
        using var client = server.CreateClient();
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) };

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(EchoMethods.Unary, request).WithTimeout());

        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.IsNull(server.Echo.LastContext, "the handler must not run");
    }

    [TestMethod]
    public async Task UnaryAsync_RequestOverConfiguredServerLimit_ThrowsResourceExhausted()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c, options => options.MaxReceiveMessageSize = 100);
        using var client = server.CreateClient();

        EchoReply small = await client.UnaryAsync(EchoMethods.Unary, new EchoRequest { Text = "ok" }).WithTimeout();
        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.Unary, new EchoRequest { Text = new string('x', 200) }).WithTimeout());

        Assert.AreEqual("ok", small.Text);
        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [TestMethod]
    public async Task UnaryAsync_ResponseOverClientLimit_ThrowsResourceExhausted()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = server.CreateClient(maxReceiveMessageSize: 1024);

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.Unary, new EchoRequest { ReplyPayloadSize = 4096 }).WithTimeout());

        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [TestMethod]
    public async Task UnaryAsync_RequestOverClientSendLimit_ThrowsResourceExhaustedWithoutCalling()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = new RpcClient(new RpcClientOptions { Address = server.Address, MaxSendMessageSize = 10 });

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.Unary, new EchoRequest { Text = new string('x', 100) }).WithTimeout());

        Assert.AreEqual(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.IsNull(server.Echo.LastContext);
    }

    [TestMethod]
    public async Task UnaryAsync_HandlerThrowsException_ReturnsUnknownWithoutInternalsAndLogsError()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        server.ExpectErrors = true;
        using var client = server.CreateClient();

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.Unary, new EchoRequest { FailWithCode = -1 }).WithTimeout());

        Assert.AreEqual(StatusCode.Unknown, ex.StatusCode);
        Assert.IsFalse(ex.Detail.Contains(EchoService.SecretExceptionText), ex.Detail);
        var logged = server.Log.Errors.Single();
        Assert.AreEqual(1, logged.EventId.Id);
        Assert.AreEqual(EchoService.SecretExceptionText, logged.Exception!.Message);
    }

    [TestMethod]
    public async Task UnaryAsync_CallerCancels_ThrowsCancelledAndHandlerTokenFires()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = server.CreateClient();
        using var cts = new CancellationTokenSource();

        Task<EchoReply> call = client.UnaryAsync(EchoMethods.Unary, new EchoRequest { DelayMs = 60_000 }, cancellationToken: cts.Token);
        await WaitUntilAsync(() => server.Echo.LastContext is not null);
        await cts.CancelAsync();
        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => call.WithTimeout());

        Assert.AreEqual(StatusCode.Cancelled, ex.StatusCode);
        await server.Echo.HandlerCancelled.Task.WithTimeout();
    }

    [TestMethod]
    public async Task ServerStreamingAsync_ConsumerStopsEarly_HandlerTokenFires()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = server.CreateClient();

        await foreach (EchoReply reply in client.ServerStreamingAsync(EchoMethods.Stream, new StreamRequest { Count = 100, DelayMs = 60_000 }))
        {
            Assert.AreEqual(0, reply.Index);
            break;
        }

        await server.Echo.HandlerCancelled.Task.WithTimeout();
    }

    [TestMethod]
    public async Task UnaryAsync_DeadlineAlreadyPassed_ThrowsWithoutCalling()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = server.CreateClient();
        DateTimeOffset past = TimeProvider.System.GetUtcNow().AddSeconds(-1);

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            client.UnaryAsync(EchoMethods.Unary, new EchoRequest(), deadline: past).WithTimeout());

        Assert.AreEqual(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.IsNull(server.Echo.LastContext);
    }

    [TestMethod]
    public async Task UnaryAsync_DeadlineOnClientClock_SendsRemainingTimeAndEnforcesItLocally()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var client = new RpcClient(new RpcClientOptions { Address = server.Address, TimeProvider = clock });

        // The server's own deadline is 60 s of real time away, so only the client's clock can end this call early.
        Task<EchoReply> call = client.UnaryAsync(EchoMethods.Unary, new EchoRequest { DelayMs = 120_000 }, deadline: clock.GetUtcNow().AddSeconds(60));
        await WaitUntilAsync(() => server.Echo.LastContext is not null);
        TimeSpan serverTimeout = server.Echo.LastContext!.Deadline!.Value - TimeProvider.System.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(60));
        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => call.WithTimeout());

        Assert.IsTrue(serverTimeout > TimeSpan.FromSeconds(50) && serverTimeout <= TimeSpan.FromSeconds(60), $"server saw {serverTimeout}");
        Assert.AreEqual(StatusCode.DeadlineExceeded, ex.StatusCode);
        await server.Echo.HandlerCancelled.Task.WithTimeout();
    }

    [TestMethod]
    public async Task UnaryAsync_NothingListening_ThrowsUnavailable()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        using var client = new RpcClient(new RpcClientOptions { Address = new Uri($"http://127.0.0.1:{port}") });

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(EchoMethods.Unary, new EchoRequest()).WithTimeout());

        Assert.AreEqual(StatusCode.Unavailable, ex.StatusCode);
    }

    [TestMethod]
    public async Task UnaryAsync_ServerCertificateRejected_ThrowsUnavailable()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.Tls);
        using var client = new RpcClient(new RpcClientOptions
        {
            Address = server.Address,
            ServerCertificateValidation = (_, _, _, _) => false,
        });

        var ex = await Assert.ThrowsExactlyAsync<RpcException>(() => client.UnaryAsync(EchoMethods.Unary, new EchoRequest()).WithTimeout());

        Assert.AreEqual(StatusCode.Unavailable, ex.StatusCode);
        Assert.IsNull(server.Echo.LastContext);
    }

    [TestMethod]
    public async Task UnaryAsync_ManyConcurrentCalls_AllSucceedOnSharedConnection()
    {
        await using var server = await RpcTestServer.StartAsync(Transport.H2c);
        using var client = server.CreateClient();

        EchoReply[] replies = await Task.WhenAll(Enumerable.Range(0, 200)
            .Select(i => client.UnaryAsync(EchoMethods.Unary, new EchoRequest { Text = i.ToString() }))).WithTimeout();

        CollectionAssert.AreEqual(Enumerable.Range(0, 200).Select(i => i.ToString()).ToArray(), replies.Select(r => r.Text).ToArray());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        while (!condition())
        {
            await timer.WaitForNextTickAsync(cts.Token);
        }
    }
}
