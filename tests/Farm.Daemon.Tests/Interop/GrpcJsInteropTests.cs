namespace Farm.Daemon.Tests.Interop;

/// <summary>
/// @grpc/grpc-js (with @grpc/proto-loader on proto/farm/v1/*.proto and the envelope MAC written in JavaScript from its
/// specification) calls a real farmd: admin over the Unix socket and sealed over TCP, a sealed membership heartbeat,
/// server reflection; the standard health service answers a standard client.
/// </summary>
[TestClass]
public sealed class GrpcJsInteropTests
{
    private static string dir = null!;
    private static int port;
    private static FarmdProcess farmd = null!;

    [ClassInitialize]
    public static async Task StartFarmd(TestContext context)
    {
        _ = context;
        dir = Directory.CreateTempSubdirectory("farmd-js-").FullName;
        port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(dir, "cluster.yaml", port);
        farmd = FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n1", dir));
        await farmd.WaitForReadyAsync(Poll.DefaultTimeout);
        Assert.IsFalse(farmd.HasExited, farmd.Output);
    }

    [ClassCleanup]
    public static async Task StopFarmd()
    {
        await farmd.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }

    [TestMethod]
    public async Task GetStatus_GrpcJsOverUnixSocket_ReturnsThisNodeAndEveryConfiguredNode()
    {
        var result = await NodeFixture.RunClientAsync("unix:" + farmd.AdminSocket, "get");

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        var status = result.GetProperty("status");
        Assert.AreEqual("n1", status.GetProperty("node").GetString());
        CollectionAssert.AreEqual(new[] { "n1", "n2", "n3", "n4" }, Names(status));
        Assert.AreEqual("NODE_STATE_UP", status.GetProperty("nodes")[0].GetProperty("state").GetString());
    }

    [TestMethod]
    public async Task WatchStatus_GrpcJsOverUnixSocket_FirstMessageIsTheCurrentStatus()
    {
        var result = await NodeFixture.RunClientAsync("unix:" + farmd.AdminSocket, "watch");

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        Assert.AreEqual("n1", result.GetProperty("status").GetProperty("node").GetString());
    }

    [TestMethod]
    public async Task GetStatus_GrpcJsSealedOverTcp_AnsweredWithAReplyItVerifies()
    {
        var result = await NodeFixture.RunClientAsync($"127.0.0.1:{port}", "sealed-get", TestClusterFiles.Key);

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        Assert.IsFalse(result.GetProperty("plainStatus").GetBoolean(), "no plain status over TCP");
        Assert.IsTrue(result.GetProperty("macValid").GetBoolean(), "the reply MAC computed in JavaScript matches");
        Assert.IsTrue(result.GetProperty("replyToMatches").GetBoolean());
        Assert.IsTrue(result.GetProperty("forUs").GetBoolean(), "the reply is sealed for the JavaScript client's run");
        Assert.AreEqual("n1", result.GetProperty("sender").GetString());
        CollectionAssert.AreEqual(new[] { "n1", "n2", "n3", "n4" }, Names(result.GetProperty("status")));
    }

    [TestMethod]
    public async Task WatchStatus_GrpcJsSealedOverTcp_StreamItemsAreSealed()
    {
        var result = await NodeFixture.RunClientAsync($"127.0.0.1:{port}", "sealed-watch", TestClusterFiles.Key);

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        Assert.IsTrue(result.GetProperty("macValid").GetBoolean());
        Assert.IsTrue(result.GetProperty("replyToMatches").GetBoolean());
    }

    [TestMethod]
    public async Task GetStatus_GrpcJsPlainOverTcp_Unauthenticated()
    {
        var result = await NodeFixture.RunClientAsync($"127.0.0.1:{port}", "plain-tcp");

        Assert.AreEqual(16, result.GetProperty("code").GetInt32(), result.ToString());
    }

    [TestMethod]
    public async Task GetStatus_GrpcJsSealedWithWrongKey_Unauthenticated()
    {
        var result = await NodeFixture.RunClientAsync($"127.0.0.1:{port}", "sealed-get", "not-the-cluster-key-at-all");

        Assert.AreEqual(16, result.GetProperty("code").GetInt32(), result.ToString());
        StringAssert.Contains(result.GetProperty("details").GetString(), "bad_mac");
    }

    [TestMethod]
    public async Task Heartbeat_GrpcJsSealedAsAPeer_ValidSealedReply()
    {
        var result = await NodeFixture.RunClientAsync($"127.0.0.1:{port}", "heartbeat", TestClusterFiles.Key);

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        Assert.IsTrue(result.GetProperty("macValid").GetBoolean(), "the reply MAC computed in JavaScript matches");
        Assert.IsTrue(result.GetProperty("replyToMatches").GetBoolean());
        Assert.IsTrue(result.GetProperty("forUs").GetBoolean());
        Assert.AreEqual(("n1", "REFUSAL_NONE", "n1"), (result.GetProperty("sender").GetString(), result.GetProperty("refusal").GetString(), result.GetProperty("replySender").GetString()));
        using var local = farmd.CreateAdminClient();
        Assert.AreEqual((await local.GetStatusAsync()).ConfigHash, result.GetProperty("replyConfigHash").GetString());
    }

    [TestMethod]
    public async Task Reflection_GrpcJsOverUnixSocket_ListsFarmAndStandardServices()
    {
        var result = await NodeFixture.RunClientAsync("unix:" + farmd.AdminSocket, "reflect");

        Assert.AreEqual(0, result.GetProperty("code").GetInt32(), result.ToString());
        var services = result.GetProperty("services").EnumerateArray().Select(s => s.GetString()).ToArray();
        foreach (string expected in new[] { "farm.v1.Admin", "farm.v1.Membership", "grpc.health.v1.Health" })
        {
            CollectionAssert.Contains(services, expected, result.ToString());
        }
    }

    [TestMethod]
    public async Task Health_StandardClientOverTcpAndSocket_Serving()
    {
        using var tcp = FarmdAdminClient.ForTcp($"127.0.0.1:{port}");
        using var local = FarmdAdminClient.ForSocket(farmd.AdminSocket);
        foreach (var channel in new[] { tcp.Channel, local.Channel })
        {
            var health = new Grpc.Health.V1.Health.HealthClient(channel);
            var reply = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest { Service = "farm.v1.Membership" }, deadline: FarmdAdminClient.Deadline());
            Assert.AreEqual(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
        }
    }

    private static string[] Names(JsonElement status) =>
        [.. status.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()!)];
}
