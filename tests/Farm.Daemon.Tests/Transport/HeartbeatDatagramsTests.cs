using System.Net.Sockets;
using Farm.Protocol.V1;

namespace Farm.Daemon.Tests.Transport;

/// <summary>
/// Heartbeats as datagrams between two in-process nodes (Kestrel and the UDP sockets on loopback): used where both
/// serve them, never towards a node that does not, and what arrives is checked as on the stream.
/// </summary>
[TestClass]
public sealed class HeartbeatDatagramsTests() : LoggedTempDirectoryTest("farmd-datagrams-")
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    [TestMethod]
    public async Task Heartbeats_BothNodesServeDatagrams_GoAsDatagramsAndTheFarmStaysOne()
    {
        await using var nodes = await StartAsync(n2Datagrams: true);
        await WaitForOneViewAsync(nodes);
        await Poll.UntilAsync(() => Task.FromResult(OnDatagrams(nodes)), all => all, "each node's route to the other goes on datagrams", TimeSpan.FromSeconds(5), CancellationToken.None);

        var n1 = nodes[0].Node;
        long received = n1.Datagrams!.Received;
        var epochs = Epochs(nodes);
        await Task.Delay(Window);

        // n2 heartbeats every interval; all but the one a second on the stream come as datagrams.
        long heard = n1.Datagrams.Received - received;
        long interval = (long)(Window / n1.Host.Options.HeartbeatInterval);
        Assert.IsTrue(heard >= interval * 3 / 4, $"{heard} datagrams received in {Window.TotalSeconds} s, {interval} heartbeats sent");
        Assert.IsTrue(OnDatagrams(nodes), "no route fell back");
        Assert.AreEqual(0L, n1.Transport.RouteTo("n2", 0)!.Fallbacks);
        AssertSteady(nodes, epochs, "no view change");
    }

    [TestMethod]
    public async Task Heartbeats_PeerOfAReleaseWithoutDatagrams_StayOnTheStreamAndTheFarmStaysOne()
    {
        await using var nodes = await StartAsync(n2Datagrams: false);
        await WaitForOneViewAsync(nodes);
        var n1 = nodes[0].Node;
        Assert.IsNull(nodes[1].Node.Datagrams, "n2 plays a release without datagrams");
        var epochs = Epochs(nodes);

        await Task.Delay(Window);

        var route = n1.Transport.RouteTo("n2", 0)!;
        Assert.IsFalse(route.OnDatagrams, "n1's probes were never answered");
        Assert.AreEqual(0L, route.Confirmations);
        Assert.AreEqual(0L, n1.Datagrams!.Received, "nothing came back as a datagram");
        AssertSteady(nodes, epochs, "no view change: the stream carries every heartbeat");
    }

    [TestMethod]
    public async Task Datagram_ForeignSourceOrNoEnvelope_DroppedAndForeignOneCounted()
    {
        await using var nodes = await StartAsync(n2Datagrams: true);
        await WaitForOneViewAsync(nodes);
        var n1 = nodes[0].Node;
        var n1Endpoint = n1.Settings.EndpointsOf(n1.Settings.Self)[0];

        // From an address that is no node's: counted as foreign, like a TCP connection from there.
        using (var foreign = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            foreign.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.99"), 0));
            foreign.SendTo([(byte)'F', (byte)'H', 1, 1, 0x0a, 0x02, (byte)'n', (byte)'2'], n1Endpoint);
        }

        await Poll.UntilAsync(() => Task.FromResult(n1.Rejections.Snapshot().Where(r => r.Reason == Farm.Daemon.Envelopes.RejectReason.ForeignAddress).Sum(r => r.Count)),
            count => count >= 1, "the foreign datagram is counted", TimeSpan.FromSeconds(5), CancellationToken.None);

        // From n2's address, a datagram that is no sealed envelope: dropped before it is served; nothing breaks.
        var epochs = Epochs(nodes);
        using (var fromN2 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            fromN2.Bind(new IPEndPoint(TestClusterFiles.Loopback(1), 0));
            fromN2.SendTo([(byte)'F', (byte)'H', 1, 1, 0xff, 0xff, 0xff], n1Endpoint);
            fromN2.SendTo(new byte[HeartbeatDatagramsMax + 100], n1Endpoint);
        }

        await Task.Delay(n1.Host.Options.DetectionTimeout);
        CollectionAssert.AreEqual(epochs, Epochs(nodes), "no view change");
        Assert.IsTrue(OnDatagrams(nodes), "the receive thread still serves");
        Logs.AssertNoErrors();
    }

    private const int HeartbeatDatagramsMax = Farm.Daemon.Transport.HeartbeatDatagrams.MaxDatagram;

    private async Task<InProcessNodes> StartAsync(bool n2Datagrams)
    {
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", TestClusterFiles.FreePort());
        return await InProcessNodes.StartAsync(["n1", "n2"], name => InProcessNode.StartAsync(
            clusterFile, name, Dir, Logs, adjust: s => s with { HeartbeatDatagrams = n2Datagrams || name != "n2" }));
    }

    private static Task<bool> WaitForOneViewAsync(InProcessNodes nodes) =>
        Poll.UntilAsync(() => Task.FromResult(nodes.All(n => n.Node.Host.Read((m, _) => m.Installed?.Members.Length) == 2)), all => all,
            "both nodes install a view of n1 and n2", TimeSpan.FromSeconds(10), CancellationToken.None);

    private static bool OnDatagrams(InProcessNodes nodes) =>
        nodes[0].Node.Transport.RouteTo("n2", 0)!.OnDatagrams && nodes[1].Node.Transport.RouteTo("n1", 0)!.OnDatagrams;

    /// <summary>The epochs are still <paramref name="epochs"/>, both leases are held, nothing was logged as an error.</summary>
    private void AssertSteady(InProcessNodes nodes, List<long?> epochs, string why)
    {
        CollectionAssert.AreEqual(epochs, Epochs(nodes), why);
        Assert.IsTrue(nodes.All(n => n.Node.Host.Read((m, now) => m.LeaseExpiry > now)), "both leases are held");
        Logs.AssertNoErrors();
    }

    private static List<long?> Epochs(InProcessNodes nodes) => [.. nodes.Select(n => n.Node.Host.Read((m, _) => m.Installed?.Id.Epoch))];
}
