using Farm.Daemon.Tests.TestSupport;
using Farm.Testing.Farmd;
using Farm.Protocol;
using Farm.Protocol.Security;
using Farm.Protocol.V1;
using Google.Protobuf;
using Farm.Rpc;
using Farm.Rpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Tests.Transport;

[TestClass]
public sealed class InProcessClusterTests : IDisposable
{
    private string dir = null!;
    private readonly TestLoggerProvider logs = new();

    [TestInitialize]
    public void Setup() => dir = Directory.CreateTempSubdirectory("farmd-inproc-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(dir, recursive: true);

    public void Dispose() => logs.Dispose();

    [TestMethod]
    public async Task ThreeNodes_OverKestrelOnLoopback_ConvergeOnOneViewWithTheirBuckets()
    {
        string clusterFile = TestClusterFiles.Write(dir, "cluster.yaml", TestClusterFiles.FreePort());
        string modules = Path.Combine(dir, "modules");
        var module = TestClusterFiles.WriteModule(modules, "web", buckets: 256);
        var nodes = new List<InProcessNode>();
        try
        {
            foreach (string name in new[] { "n1", "n2", "n3" })
            {
                nodes.Add(await InProcessNode.StartAsync(clusterFile, name, dir, logs, [module]));
            }

            using var admin = FarmdAdminClient.ForSocket(nodes[0].Socket);
            var status = await TestTimeout.UntilAsync(() => admin.GetStatusAsync(),
                s => s.Nodes.Count(n => n.InView) == 3, "n1 installs a view of n1, n2, n3", TimeSpan.FromSeconds(10));

            // Every node installed the same view, and the 256 buckets are shared out by weight (85/85/86).
            foreach (var node in nodes)
            {
                var view = node.Node.Host.Read((m, _) => m.Installed);
                Assert.IsNotNull(view);
                Assert.AreEqual(status.InstalledEpoch, view.Id.Epoch, $"{node.Node.Settings.Self.Name} installed another epoch");
            }

            var buckets = status.Nodes.Where(n => n.InView).Select(n => n.Buckets.Single(b => b.Module == "web").Buckets).ToList();
            Assert.AreEqual(256, buckets.Sum());
            Assert.IsTrue(buckets.All(b => b is 85 or 86), string.Join(",", buckets));
            Assert.IsTrue(status.Nodes.Where(n => n.InView).All(n => n.State == NodeState.Up && n.Lans.Single().Reachable));
            Assert.AreEqual(NodeState.Unknown, status.Nodes.Single(n => n.Name == "n4").State);
            Assert.AreEqual(0, status.Rejected.Count, "no message between honest nodes may be refused");
            Assert.IsFalse(logs.Entries.Any(e => e.Level >= LogLevel.Error), string.Join("\n", logs.Entries.Where(e => e.Level >= LogLevel.Error)));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [TestMethod]
    public async Task AdminOverTcp_PlainRefusedSealedAnsweredReplayRefused()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(dir, "cluster.yaml", port);
        await using var node = await InProcessNode.StartAsync(clusterFile, "n1", dir, logs);
        using var tcp = FarmdAdminClient.ForTcp($"127.0.0.1:{port}");

        var plain = await Assert.ThrowsExactlyAsync<RpcException>(() =>
            tcp.Rpc.UnaryAsync(AdminMethods.GetStatus, new AdminRequest { Query = new StatusQuery() }));
        Assert.AreEqual(StatusCode.Unauthenticated, plain.StatusCode);

        var request = SealedAdmin.Request(TestClusterFiles.Key, AdminMethods.GetStatus.FullName, "farmctl-test", 1, 1);
        var reply = await tcp.Rpc.UnaryAsync(AdminMethods.GetStatus, request);
        Assert.IsNull(reply.Status, "over TCP the status travels sealed only");
        Assert.IsTrue(new EnvelopeCodec(TestClusterFiles.Key).HasValidMac(AdminMethods.GetStatus.FullName, EnvelopeKind.Reply, reply.Sealed));
        Assert.AreEqual(1UL, reply.Sealed.ReplyTo);
        Assert.AreEqual("n1", NodeStatusReport.Parser.ParseFrom(reply.Sealed.Payload).Node);

        var replay = await Assert.ThrowsExactlyAsync<RpcException>(() => tcp.Rpc.UnaryAsync(AdminMethods.GetStatus, request));
        Assert.AreEqual(StatusCode.Unauthenticated, replay.StatusCode);

        using var local = FarmdAdminClient.ForSocket(node.Socket);
        var status = await local.GetStatusAsync();
        Assert.AreEqual(1UL, status.Rejected.Single(r => r.Reason == "unauthenticated").Count);
        Assert.AreEqual(1UL, status.Rejected.Single(r => r.Reason == "replayed").Count);
        Assert.AreEqual("127.0.0.1", status.Rejected.Single(r => r.Reason == "replayed").Source);
    }

    [TestMethod]
    public async Task AdminOverTcp_ApplyConfigOnlyEncryptedDrainOnlyItself()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(dir, "cluster.yaml", port);
        await using var node = await InProcessNode.StartAsync(clusterFile, "n1", dir, logs);
        using var tcp = FarmdAdminClient.ForTcp($"127.0.0.1:{port}");
        var codec = new EnvelopeCodec(TestClusterFiles.Key);
        ulong seq = 0;
        Envelope Seal(string method, IMessage query) =>
            codec.Seal(method, EnvelopeKind.Request, "farmctl-test", 1, ++seq, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds(), 0, 0, query.ToByteString());

        // The file holds the cluster key: in the clear it is refused before anything else.
        string newer = File.ReadAllText(clusterFile).Replace("  version: 0\n", "  version: 1\n", StringComparison.Ordinal);
        var plain = await Assert.ThrowsExactlyAsync<RpcException>(() => tcp.Rpc.UnaryAsync(
            AdminMethods.ApplyConfig, new ConfigApplyRequest { Sealed = Seal(AdminMethods.ApplyConfig.FullName, new ConfigApplyQuery { Text = newer }) }));
        Assert.AreEqual((StatusCode.InvalidArgument, "over TCP the file must travel encrypted (encrypted_text): it holds the cluster key"), (plain.StatusCode, plain.Detail));

        var wrongKey = new ConfigApplyQuery { EncryptedText = ByteString.CopyFrom(new ConfigTextCipher("some-other-cluster-key-000").Encrypt(newer)) };
        var undecryptable = await Assert.ThrowsExactlyAsync<RpcException>(() => tcp.Rpc.UnaryAsync(
            AdminMethods.ApplyConfig, new ConfigApplyRequest { Sealed = Seal(AdminMethods.ApplyConfig.FullName, wrongKey) }));
        Assert.AreEqual(StatusCode.InvalidArgument, undecryptable.StatusCode);

        // Encrypted, it is applied on this node only (no relay from a sealed call).
        var encrypted = new ConfigApplyQuery { EncryptedText = ByteString.CopyFrom(new ConfigTextCipher(TestClusterFiles.Key).Encrypt(newer)), FileName = "new.yaml" };
        var reply = await tcp.Rpc.UnaryAsync(AdminMethods.ApplyConfig, new ConfigApplyRequest { Sealed = Seal(AdminMethods.ApplyConfig.FullName, encrypted) });
        Assert.IsTrue(codec.HasValidMac(AdminMethods.ApplyConfig.FullName, EnvelopeKind.Reply, reply.Sealed));
        var result = ConfigApplyAnswer.Parser.ParseFrom(reply.Sealed.Payload).Results.Single();
        Assert.AreEqual(("n1", ConfigApplyOutcome.Applied, 1L), (result.Node, result.Outcome, result.Version), string.Join("\n", result.Errors));
        Assert.AreEqual(newer, File.ReadAllText(clusterFile));

        // A sealed drain acts on the answering node only.
        var other = await Assert.ThrowsExactlyAsync<RpcException>(() => tcp.Rpc.UnaryAsync(
            AdminMethods.DrainNode, new DrainRequest { Sealed = Seal(AdminMethods.DrainNode.FullName, new DrainQuery { Node = "n2", Action = DrainAction.Drain }) }));
        Assert.AreEqual(StatusCode.InvalidArgument, other.StatusCode);
        StringAssert.Contains(other.Detail, "over TCP a node acts only on itself (n1)");
        var drained = await tcp.Rpc.UnaryAsync(
            AdminMethods.DrainNode, new DrainRequest { Sealed = Seal(AdminMethods.DrainNode.FullName, new DrainQuery { Node = "n1", Action = DrainAction.Drain }) });
        var answer = DrainAnswer.Parser.ParseFrom(drained.Sealed.Payload);
        Assert.AreEqual(("n1", true, ""), (answer.Node, answer.Changed, answer.Error));
        Assert.IsTrue(node.Node.Drain.IsDrained);

        using var local = FarmdAdminClient.ForSocket(node.Socket);
        var status = await local.GetStatusAsync();
        Assert.AreEqual((1L, true), (status.ConfigVersion, status.Leaving));
    }

    [TestMethod]
    public async Task ForgedReply_DroppedCountedAndPeerNeverAdmitted()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(dir, "cluster.yaml", port);

        // A fake n2 that answers every heartbeat with a well-formed reply sealed with the wrong key.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(TestClusterFiles.Loopback(1), port, l => l.Protocols = HttpProtocols.Http2));
        await using var fake = builder.Build();
        var forger = new EnvelopeCodec("the-wrong-cluster-key-entirely");
        int answered = 0;
        fake.MapRpcService(s => s.AddUnary(MembershipMethods.Heartbeat, (request, _) =>
        {
            Interlocked.Increment(ref answered);
            var reply = new HeartbeatReply
            {
                Sender = new Member { Name = "n2", Incarnation = 5, Weight = 100 },
                ConfigHash = "whatever",
            };
            return Task.FromResult(forger.Seal(MembershipMethods.Heartbeat.FullName, EnvelopeKind.Reply, "n2", 5, 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0, request.Seq, reply.ToByteString()));
        }));
        await fake.StartAsync();

        await using var node = await InProcessNode.StartAsync(clusterFile, "n1", dir, logs);
        using var admin = FarmdAdminClient.ForSocket(node.Socket);
        var status = await TestTimeout.UntilAsync(() => admin.GetStatusAsync(),
            s => s.Rejected.Any(r => r.Source == "reply from n2" && r.Reason == "bad_mac" && r.Count >= 3), "forged replies are counted");

        Assert.IsTrue(Volatile.Read(ref answered) >= 3);
        var n2 = status.Nodes.Single(n => n.Name == "n2");
        Assert.AreEqual(NodeState.Unknown, n2.State, "a forged reply must not count as hearing n2");
        Assert.IsFalse(n2.InView);
        Assert.AreEqual(1, logs.Entries.Count(e => e.Id.Id == 100 && e.Message.Contains("reply from n2", StringComparison.Ordinal)), "logged once a minute per source");
    }
}
