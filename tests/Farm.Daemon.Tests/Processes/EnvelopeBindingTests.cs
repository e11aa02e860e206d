using Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Processes;

/// <summary>
/// An attacker on the heartbeat LAN without the key: envelopes captured on the wire (a relay between two real farmd
/// processes) and sent unchanged elsewhere, again, or to a later run of their recipient must all be useless.
/// </summary>
[TestClass]
public sealed class EnvelopeBindingTests() : TempDirectoryTest("farmd-bind-")
{
    /// <summary>n1 dials n2 through this address, where the capturing relay listens.</summary>
    private static readonly IPAddress Relay = IPAddress.Parse("127.0.0.12");

    /// <summary>The admin client dials n2 through this one (a second relay: its captures are admin calls only).</summary>
    private static readonly IPAddress AdminRelay = IPAddress.Parse("127.0.0.13");

    [TestMethod]
    public async Task CapturedEnvelopes_ForOtherNodeReplayedOrForPreviousRun_AllRefused()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port);
        var n2Configured = TestClusterFiles.AddressMap.Single(kv => kv.Value.Equals(TestClusterFiles.Loopback(1))).Key;
        var n1Map = TestClusterFiles.AddressMap.ToDictionary(kv => kv.Key, kv => kv.Key.Equals(n2Configured) ? Relay : kv.Value);
        var processes = new List<FarmdProcess>();
        await using var membershipRelay = Http2CaptureProxy.Start(new IPEndPoint(Relay, port), new IPEndPoint(TestClusterFiles.Loopback(1), port));
        await using var adminRelay = Http2CaptureProxy.Start(new IPEndPoint(AdminRelay, port), new IPEndPoint(TestClusterFiles.Loopback(1), port));
        try
        {
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n1", Dir) with { AddressMap = n1Map }));
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n2", Dir)));
            processes.Add(FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n3", Dir)));
            foreach (var p in processes)
            {
                await p.WaitForReadyAsync(TimeSpan.FromSeconds(15));
            }

            using var admin2 = processes[1].CreateAdminClient();
            using var admin3 = processes[2].CreateAdminClient();
            var before = await Poll.UntilAsync(() => admin2.GetStatusAsync(), s => s.Nodes.Count(n => n.InView) == 3, "n1, n2, n3 form one view", TimeSpan.FromSeconds(15), CancellationToken.None);
            long n2FirstRun = before.Nodes.Single(n => n.Name == "n2").Incarnation;

            // 1. A heartbeat captured on its way from n1 to n2: authentic, sealed for n2's current run.
            var heartbeat = CapturedHeartbeats(membershipRelay).Last(e => e.RecipientIncarnation == n2FirstRun);
            Assert.IsTrue(HeartbeatRequest.Parser.ParseFrom(heartbeat.Payload).Sender.Name == "n1", "the capture is n1's authentic heartbeat");
            Assert.AreEqual(("n1", "n2"), (heartbeat.Sender, heartbeat.Recipient));

            // ... sent unchanged to n3: refused, counted, not served.
            using var tcp3 = FarmdAdminClient.ForTcp($"127.0.0.3:{port}");
            var toN3 = await Assert.ThrowsExactlyAsync<RpcException>(async () => await new Farm.Protocol.V1.Membership.MembershipClient(tcp3.Channel).HeartbeatAsync(heartbeat));
            Assert.AreEqual((StatusCode.PermissionDenied, "refused: wrong_recipient"), (toN3.StatusCode, toN3.Status.Detail));

            // ... sent again to n2: refused as a replay.
            using var tcp2 = FarmdAdminClient.ForTcp($"127.0.0.2:{port}");
            var again = await Assert.ThrowsExactlyAsync<RpcException>(async () => await new Farm.Protocol.V1.Membership.MembershipClient(tcp2.Channel).HeartbeatAsync(heartbeat));
            Assert.AreEqual((StatusCode.Unauthenticated, "refused: replayed"), (again.StatusCode, again.Status.Detail));

            // ... and on the heartbeat stream (what farmd itself uses): the same checks, the stream ends with the refusal.
            Assert.AreEqual((StatusCode.PermissionDenied, "refused: wrong_recipient"), await StreamRefusalAsync(tcp3, heartbeat));
            Assert.AreEqual((StatusCode.Unauthenticated, "refused: replayed"), await StreamRefusalAsync(tcp2, heartbeat));

            // ... and as a datagram (how farmd sends heartbeats where the path carries them), from n1's own address, which
            // both accept datagrams from: refused and counted, never answered.
            long replayedBefore = Count(await admin2.GetStatusAsync(), "replayed");
            SendDatagram(heartbeat, new IPEndPoint(TestClusterFiles.Loopback(2), port));
            SendDatagram(heartbeat, new IPEndPoint(TestClusterFiles.Loopback(1), port));
            await Poll.UntilAsync(() => admin2.GetStatusAsync(), s => Count(s, "replayed") > replayedBefore, "n2 counts the replayed datagram", TimeSpan.FromSeconds(5), CancellationToken.None);

            // 2. An admin drain sealed for n2 (through the second relay), captured, then sent to n3 and to n2 again.
            using var relayed = FarmdAdminClient.ForTcp($"{AdminRelay}:{port}");
            var operator2 = new TestSealer(TestClusterFiles.Key, "farmctl@attack-test", 1);
            var hello = (await relayed.Client.GetStatusAsync(new AdminRequest { Sealed = operator2.Request(MethodPaths.GetStatus, new StatusQuery(), "", 0) })).Sealed;
            Assert.AreEqual((Refusal.Reseal, "n2"), (hello.Refusal, hello.Sender));
            var drain = new DrainQuery { Node = "n2", Action = DrainAction.Drain, RequestedBy = "attack-test" };
            var drained = await relayed.Client.DrainNodeAsync(new DrainRequest { Sealed = operator2.Request(MethodPaths.DrainNode, drain, "n2", hello.Incarnation) });
            Assert.IsTrue(DrainAnswer.Parser.ParseFrom(drained.Sealed.Payload).Changed, "the honest drain acts on n2");
            var capturedDrain = adminRelay.Requests.Select(b => DrainRequest.Parser.ParseFrom(b)).Last(r => r.Sealed is not null).Sealed;
            Assert.AreEqual("n2", capturedDrain.Recipient);

            var drainN3 = await Assert.ThrowsExactlyAsync<RpcException>(async () => await tcp3.Client.DrainNodeAsync(new DrainRequest { Sealed = capturedDrain }));
            Assert.AreEqual(StatusCode.PermissionDenied, drainN3.StatusCode);
            var drainAgain = await Assert.ThrowsExactlyAsync<RpcException>(async () => await tcp2.Client.DrainNodeAsync(new DrainRequest { Sealed = capturedDrain }));
            Assert.AreEqual(StatusCode.Unauthenticated, drainAgain.StatusCode);

            var s3 = await admin3.GetStatusAsync();
            Assert.IsFalse(s3.Leaving, "the replayed drain did not act on n3");
            // The heartbeat three times (unary, stream, datagram), the drain once.
            Assert.AreEqual(4L, Count(s3, "wrong_recipient"), s3.Rejected.ToString());
            var s2 = await admin2.GetStatusAsync();
            Assert.IsTrue(s2.Rejected.Any(r => r.Reason == "replayed"), s2.Rejected.ToString());

            // 3. n2 restarts (kill -9): a heartbeat sealed for its previous run is answered with RESEAL and never served.
            processes[1].Kill();
            await processes[1].DisposeAsync();
            processes[1] = FarmdProcess.Start(TestClusterFiles.Farmd(clusterFile, "n2", Dir));
            await processes[1].WaitForReadyAsync(TimeSpan.FromSeconds(15));
            using var admin2b = processes[1].CreateAdminClient();
            var after = await Poll.UntilAsync(() => admin2b.GetStatusAsync(), s => s.Nodes.Count(n => n.InView) == 3, "n2's new run rejoins", TimeSpan.FromSeconds(15), CancellationToken.None);
            long n2SecondRun = after.Nodes.Single(n => n.Name == "n2").Incarnation;
            Assert.AreNotEqual(n2FirstRun, n2SecondRun);

            var previousRun = CapturedHeartbeats(membershipRelay).First(e => e.RecipientIncarnation == n2FirstRun && e.Seq != heartbeat.Seq);
            using var tcp2b = FarmdAdminClient.ForTcp($"127.0.0.2:{port}");
            var answer = await new Farm.Protocol.V1.Membership.MembershipClient(tcp2b.Channel).HeartbeatAsync(previousRun);
            Assert.AreEqual((Refusal.Reseal, n2SecondRun, 0), (answer.Refusal, answer.Incarnation, answer.Payload.Length), "a refusal naming the new run, serving nothing");
            var stale = await admin2b.GetStatusAsync();
            Assert.IsTrue(stale.Rejected.Any(r => r.Reason == "stale_run" && r.LastClaimedSender == "n1"), stale.Rejected.ToString());

            // Honest traffic was never refused for binding reasons.
            var s1 = await processes[0].CreateAdminClient().GetStatusAsync();
            Assert.IsFalse(s1.Rejected.Any(r => r.Reason is "wrong_recipient" or "bad_mac"), s1.Rejected.ToString());
        }
        finally
        {
            await ScratchRun.StopAsync(processes);
        }
    }

    /// <summary>How many refusals for <paramref name="reason"/> a status counts, over every source.</summary>
    private static long Count(NodeStatusReport status, string reason) => status.Rejected.Where(r => r.Reason == reason).Sum(r => (long)r.Count);

    /// <summary>Sends <paramref name="envelope"/> as a heartbeat datagram to <paramref name="to"/> from n1's address (127.0.0.1).</summary>
    private static void SendDatagram(Envelope envelope, IPEndPoint to)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new IPEndPoint(TestClusterFiles.Loopback(0), 0));
        socket.SendTo([(byte)'F', (byte)'H', 1, 1, .. envelope.ToByteArray()], to);
    }

    /// <summary>The heartbeats n1 sealed for a known run of n2 (the relay also carries n1's Prepare, Commit and GetView).</summary>
    /// <summary>Sends <paramref name="envelope"/> as the only item of a heartbeat stream; the status the stream ends with.</summary>
    private static async Task<(StatusCode, string)> StreamRefusalAsync(FarmdAdminClient tcp, Envelope envelope)
    {
        using var call = new Farm.Protocol.V1.Membership.MembershipClient(tcp.Channel).HeartbeatStream(deadline: DateTime.UtcNow.AddSeconds(10));
        await call.RequestStream.WriteAsync(envelope);
        var refused = await Assert.ThrowsExactlyAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));
        return (refused.StatusCode, refused.Status.Detail);
    }

    private static List<Envelope> CapturedHeartbeats(Http2CaptureProxy relay)
    {
        var codec = new EnvelopeCodec(TestClusterFiles.Key);
        return [.. relay.Requests.Select(b => Envelope.Parser.ParseFrom(b))
            .Where(e => e.Recipient == "n2" && e.RecipientIncarnation != 0 && codec.HasValidMac(MethodPaths.Heartbeat, EnvelopeKind.Request, e))];
    }
}
