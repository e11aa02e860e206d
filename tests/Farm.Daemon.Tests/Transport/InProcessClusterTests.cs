using Farm.Protocol.V1;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Farm.Daemon.Tests.Transport;

[TestClass]
public sealed class InProcessClusterTests() : LoggedTempDirectoryTest("farmd-inproc-")
{
    [TestMethod]
    public async Task ThreeNodes_OverKestrelOnLoopback_ConvergeOnOneViewWithTheirBuckets()
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        string modules = Path.Combine(Dir, "modules");
        var module = TestClusterFiles.WriteModule(modules, "web", buckets: 256);
        await using var nodes = await InProcessNodes.StartAsync(["n1", "n2", "n3"], name => InProcessNode.StartAsync(clusterFile, name, Dir, Logs, [module]));

        using var admin = FarmdAdminClient.ForSocket(nodes[0].Socket);
        var status = await Poll.UntilAsync(() => admin.GetStatusAsync(),
            s => s.Nodes.Count(n => n.InView) == 3 && s.Nodes.Where(n => n.InView).All(n => n.Buckets.SingleOrDefault(b => b.Module == "web")?.Buckets is 85 or 86),
            "n1 installs a view of n1, n2, n3 that shares the buckets out by weight (the view that admits a node gives it nothing before its first lease)",
            TimeSpan.FromSeconds(10), CancellationToken.None);

        // Every node installs the same view (the others commit a moment after n1), and the 256 buckets are shared out
        // by weight (85/85/86).
        foreach (var node in nodes)
        {
            await Poll.UntilAsync(() => Task.FromResult(node.Node.Host.Read((m, _) => m.Installed?.Id.Epoch)),
                epoch => epoch == status.InstalledEpoch, $"{node.Node.Settings.Self.Name} installs epoch {status.InstalledEpoch}", TimeSpan.FromSeconds(5), CancellationToken.None);
        }

        var buckets = status.Nodes.Where(n => n.InView).Select(n => n.Buckets.Single(b => b.Module == "web").Buckets).ToList();
        Assert.AreEqual(256, buckets.Sum());
        Assert.IsTrue(buckets.All(b => b is 85 or 86), string.Join(",", buckets));
        Assert.IsTrue(status.Nodes.Where(n => n.InView).All(n => n.State == NodeState.Up && n.Lans.Single().Reachable));
        Assert.AreEqual(NodeState.Unknown, status.Nodes.Single(n => n.Name == "n4").State);
        Assert.AreEqual(0, status.Rejected.Count, "no message between honest nodes may be refused");
        Logs.AssertNoErrors();
    }

    [TestMethod]
    public async Task AdminOverTcp_PlainRefusedSealedAnsweredReplayRefused()
    {
        await using var farm = await StartAdminOverTcpAsync();
        var (node, tcp, client, _) = farm;

        var plain = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
            await tcp.Client.GetStatusAsync(new AdminRequest { Query = new StatusQuery() }));
        Assert.AreEqual(StatusCode.Unauthenticated, plain.StatusCode);

        // First contact names no run: farmd answers with its name and run, sealed, and serves nothing.
        var hello = client.Request(MethodPaths.GetStatus, new StatusQuery(), "", 0);
        var refusal = (await tcp.Client.GetStatusAsync(new AdminRequest { Sealed = hello })).Sealed;
        Assert.IsTrue(client.Codec.HasValidMac(MethodPaths.GetStatus, EnvelopeKind.Reply, refusal));
        Assert.AreEqual((Refusal.Reseal, "n1", node.Node.Settings.Incarnation, 0), (refusal.Refusal, refusal.Sender, refusal.Incarnation, refusal.Payload.Length));

        var request = new AdminRequest { Sealed = client.Request(MethodPaths.GetStatus, new StatusQuery(), refusal.Sender, refusal.Incarnation) };
        var reply = await tcp.Client.GetStatusAsync(request);
        Assert.IsNull(reply.Status, "over TCP the status travels sealed only");
        Assert.IsTrue(client.Codec.HasValidMac(MethodPaths.GetStatus, EnvelopeKind.Reply, reply.Sealed));
        Assert.AreEqual((request.Sealed.Seq, "farmctl-test", 1L), (reply.Sealed.ReplyTo, reply.Sealed.Recipient, reply.Sealed.RecipientIncarnation));
        Assert.AreEqual("n1", NodeStatusReport.Parser.ParseFrom(reply.Sealed.Payload).Node);

        var replay = await Assert.ThrowsExactlyAsync<RpcException>(async () => await tcp.Client.GetStatusAsync(request));
        Assert.AreEqual(StatusCode.Unauthenticated, replay.StatusCode);

        // Sealed for another node: refused without an answer.
        var elsewhere = client.Request(MethodPaths.GetStatus, new StatusQuery(), "n2", refusal.Incarnation);
        var wrong = await Assert.ThrowsExactlyAsync<RpcException>(async () => await tcp.Client.GetStatusAsync(new AdminRequest { Sealed = elsewhere }));
        Assert.AreEqual((StatusCode.PermissionDenied, "refused: wrong_recipient"), (wrong.StatusCode, wrong.Status.Detail));

        using var local = FarmdAdminClient.ForSocket(node.Socket);
        var status = await local.GetStatusAsync();
        Assert.AreEqual(1UL, status.Rejected.Single(r => r.Reason == "unauthenticated").Count);
        Assert.AreEqual(1UL, status.Rejected.Single(r => r.Reason == "replayed").Count);
        Assert.AreEqual(1UL, status.Rejected.Single(r => r.Reason == "wrong_recipient").Count);
        Assert.AreEqual("127.0.0.1", status.Rejected.Single(r => r.Reason == "replayed").Source);
        Assert.IsFalse(status.Rejected.Any(r => r.Reason == "stale_run"), "first contact is not a refusal");
    }

    [TestMethod]
    public async Task AdminOverTcp_ApplyConfigOnlyEncryptedDrainOnlyItself()
    {
        await using var farm = await StartAdminOverTcpAsync();
        var (node, tcp, client, clusterFile) = farm;
        Envelope Seal(string method, IMessage query) => client.Request(method, query, "n1", node.Node.Settings.Incarnation);

        // The file holds the cluster key: in the clear it is refused before anything else.
        string newer = File.ReadAllText(clusterFile).Replace("  version: 0\n", "  version: 1\n", StringComparison.Ordinal);
        var plain = await Assert.ThrowsExactlyAsync<RpcException>(async () => await tcp.Client.ApplyConfigAsync(
            new ConfigApplyRequest { Sealed = Seal(MethodPaths.ApplyConfig, new ConfigApplyQuery { Text = newer }) }));
        Assert.AreEqual((StatusCode.InvalidArgument, "over TCP the file must travel encrypted (encrypted_text): it holds the cluster key"), (plain.StatusCode, plain.Status.Detail));

        var wrongKey = new ConfigApplyQuery { EncryptedText = ByteString.CopyFrom(new ConfigTextCipher("some-other-cluster-key-000").Encrypt(newer)) };
        var undecryptable = await Assert.ThrowsExactlyAsync<RpcException>(async () => await tcp.Client.ApplyConfigAsync(
            new ConfigApplyRequest { Sealed = Seal(MethodPaths.ApplyConfig, wrongKey) }));
        Assert.AreEqual(StatusCode.InvalidArgument, undecryptable.StatusCode);

        // Encrypted, it is applied on this node only (no relay from a sealed call).
        var encrypted = new ConfigApplyQuery { EncryptedText = ByteString.CopyFrom(new ConfigTextCipher(TestClusterFiles.Key).Encrypt(newer)), FileName = "new.yaml" };
        var reply = await tcp.Client.ApplyConfigAsync(new ConfigApplyRequest { Sealed = Seal(MethodPaths.ApplyConfig, encrypted) });
        Assert.IsTrue(client.Codec.HasValidMac(MethodPaths.ApplyConfig, EnvelopeKind.Reply, reply.Sealed));
        var result = ConfigApplyAnswer.Parser.ParseFrom(reply.Sealed.Payload).Results.Single();
        Assert.AreEqual(("n1", ConfigApplyOutcome.Applied, 1L), (result.Node, result.Outcome, result.Version), string.Join("\n", result.Errors));
        Assert.AreEqual(newer, File.ReadAllText(clusterFile));

        // A sealed drain acts on the answering node only.
        var other = await Assert.ThrowsExactlyAsync<RpcException>(async () => await tcp.Client.DrainNodeAsync(
            new DrainRequest { Sealed = Seal(MethodPaths.DrainNode, new DrainQuery { Node = "n2", Action = DrainAction.Drain }) }));
        Assert.AreEqual(StatusCode.InvalidArgument, other.StatusCode);
        StringAssert.Contains(other.Status.Detail, "over TCP a node acts only on itself (n1)");
        var drained = await tcp.Client.DrainNodeAsync(
            new DrainRequest { Sealed = Seal(MethodPaths.DrainNode, new DrainQuery { Node = "n1", Action = DrainAction.Drain }) });
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
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port);

        // A fake n2 that answers every heartbeat with a well-formed reply sealed with the wrong key.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<ForgingMembership>();
        builder.WebHost.ConfigureKestrel(k => k.Listen(TestClusterFiles.Loopback(1), port, l => l.Protocols = HttpProtocols.Http2));
        await using var fake = builder.Build();
        fake.MapGrpcService<ForgingMembership>();
        var forger = fake.Services.GetRequiredService<ForgingMembership>();
        await fake.StartAsync();

        await using var node = await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs);
        using var admin = FarmdAdminClient.ForSocket(node.Socket);
        var status = await Poll.UntilAsync(() => admin.GetStatusAsync(),
            s => s.Rejected.Any(r => r.Source == "reply from n2" && r.Reason == "bad_mac" && r.Count >= 3), "forged replies are counted", Poll.DefaultTimeout, CancellationToken.None);

        Assert.IsTrue(forger.Answered >= 3);
        var n2 = status.Nodes.Single(n => n.Name == "n2");
        Assert.AreEqual(NodeState.Unknown, n2.State, "a forged reply must not count as hearing n2");
        Assert.IsFalse(n2.InView);
        Assert.AreEqual(1, Logs.Entries.Count(e => e.Id.Id == 100 && e.Message.Contains("reply from n2", StringComparison.Ordinal)), "logged once a minute per source");
    }

    /// <summary>A fake n2 whose heartbeat replies are well-formed but sealed with the wrong key.</summary>
    private sealed class ForgingMembership : Farm.Protocol.V1.Membership.MembershipBase
    {
        private readonly TestSealer forger = new("the-wrong-cluster-key-entirely", "n2", 5);
        private int answered;

        public int Answered => Volatile.Read(ref answered);

        public override Task<Envelope> Heartbeat(Envelope request, ServerCallContext context)
        {
            Interlocked.Increment(ref answered);
            var reply = new HeartbeatReply { Sender = new Member { Name = "n2", Incarnation = 5, Weight = 100 }, ConfigHash = "whatever" };
            return Task.FromResult(forger.Reply(MethodPaths.Heartbeat, request, reply));
        }
    }

    /// <summary>n1 alone, its gRPC port dialed as an admin client over TCP, and a farmctl-like sealer; disposing stops both.</summary>
    private async Task<AdminOverTcp> StartAdminOverTcpAsync()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port);
        var node = await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs);
        return new AdminOverTcp(node, FarmdAdminClient.ForTcp($"127.0.0.1:{port}"), new TestSealer(TestClusterFiles.Key, "farmctl-test", 1), clusterFile);
    }

    private sealed record AdminOverTcp(InProcessNode Node, FarmdAdminClient Tcp, TestSealer Client, string ClusterFile) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Tcp.Dispose();
            await Node.DisposeAsync();
        }
    }
}
