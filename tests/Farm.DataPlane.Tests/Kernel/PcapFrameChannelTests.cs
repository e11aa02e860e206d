using System.Collections.Concurrent;
using static Farm.DataPlane.Tests.Neighbors.NeighborFramesTests;

namespace Farm.DataPlane.Tests.Kernel;

/// <summary>The SharpPcap channel on real veths: what it captures and sends, how it wakes, and what it leaves behind.</summary>
[TestClass]
public sealed class PcapFrameChannelTests : KernelTestClass
{
    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ReceiveAndSend_FirstRequestAfterOpen_CapturedAndTheReplyReachesTheClient()
    {
        await using var topology = await OneNodeAsync(clients: 1);
        var node = topology.Nodes[0];
        var client = topology.Clients[0];
        using var nodeChannel = await OpenAsync(node, [Vip4, Vip6]);
        using var clientChannel = await OpenAsync(client, []);
        var clientMac = await MacAsync(client);
        using var nodeFrames = Collector.Start(nodeChannel);
        using var clientFrames = Collector.Start(clientChannel);

        // The very first frame on the wire after the open must be captured (with a BPF `inbound` it was lost).
        clientChannel.Send(ArpRequestFrame(clientMac, Client4, Vip4));
        var request = await nodeFrames.WaitForAsync(f => IsArpRequestFor(f, Vip4), Ct);
        Assert.IsTrue(NeighborFrames.TryParseArpRequest(request, out var asked));
        nodeChannel.Send(NeighborFrames.ArpReply(await MacAsync(node), VirtualMac.For(Vip4), Vip4, asked.SenderMac, asked.SenderAddress));
        var reply = await clientFrames.WaitForAsync(IsArpReply, Ct);

        CollectionAssert.AreEqual(VirtualMac.For(Vip4).GetAddressBytes(), reply[22..28]);
        CollectionAssert.AreEqual(clientMac.GetAddressBytes(), reply[0..6]);
        Assert.IsFalse(nodeFrames.Frames.Any(IsArpReply), "the node's channel captured the reply it sent itself");
        Assert.HasCount(1, nodeFrames.Frames.Where(f => IsArpRequestFor(f, Vip4)), "the request was captured once");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Wake_ReceiveBlockedWithoutTraffic_ReturnsMinusOneWithinWakeLatency()
    {
        await using var topology = await OneNodeAsync(clients: 0);
        var node = topology.Nodes[0];
        using var channel = await OpenAsync(node, [Vip4]);
        var time = TimeProvider.System;
        var receiving = new TaskCompletionSource();
        var receiver = Task.Factory.StartNew(
            () =>
            {
                byte[] buffer = new byte[2048];
                receiving.SetResult();
                int result;
                while ((result = channel.Receive(buffer)) >= 0)
                {
                }

                return result;
            },
            Ct,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await receiving.Task;

        long woken = time.GetTimestamp();
        channel.Wake();
        int last = await receiver.WaitAsync(TimeSpan.FromSeconds(10), time, Ct);
        var took = time.GetElapsedTime(woken);

        TestContext.WriteLine($"Receive returned {last} {took.TotalMilliseconds:F0} ms after Wake");
        Assert.AreEqual(-1, last);
        Assert.IsLessThan(PcapFrameChannel.WakeLatency + TimeSpan.FromSeconds(1), took, "a blocked receive ends within the poll period (plus scheduling slack)");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Dispose_Open_PacketSocketClosedAndSolicitedNodeGroupLeft()
    {
        await using var topology = await OneNodeAsync(clients: 0);
        var node = topology.Nodes[0];
        const string Group = "ff02::1:ff00:100";
        int before = await node.Namespace.RunAsync(CountPacketSockets);

        var channel = await OpenAsync(node, [Vip4, Vip6]);
        int open = await node.Namespace.RunAsync(CountPacketSockets);
        string groupsOpen = (await node.Namespace.IpAsync(["-6", "maddr", "show", "dev", node.InterfaceName], Ct)).StandardOutput;
        channel.Dispose();
        int after = await node.Namespace.RunAsync(CountPacketSockets);
        string groupsAfter = (await node.Namespace.IpAsync(["-6", "maddr", "show", "dev", node.InterfaceName], Ct)).StandardOutput;

        Assert.AreEqual(before + 1, open, "the capture is one packet socket");
        StringAssert.Contains(groupsOpen, Group);
        Assert.AreEqual(before, after, "the packet socket is closed");
        Assert.DoesNotContain(Group, groupsAfter);
        Assert.ThrowsExactly<ObjectDisposedException>(() => channel.Send(ArpRequestFrame(ClientMac, Client4, Vip4)));
    }

    /// <summary>Packet sockets of the calling thread's network namespace (any process).</summary>
    // One node and 0 or 1 client on a bridge, in namespaces of their own.
    private Task<FarmTopology> OneNodeAsync(int clients) =>
        FarmTopology.CreateAsync(new TopologyOptions { Nodes = 1, Clients = clients }, cancellationToken: Ct);

    // A channel on the host's interface, opened inside its namespace.
    private static Task<PcapFrameChannel> OpenAsync(TopologyHost host, IPAddress[] vips) =>
        host.Namespace.RunAsync(() => PcapFrameChannel.Open(host.InterfaceName, vips));

    private static int CountPacketSockets() => File.ReadAllLines("/proc/thread-self/net/packet").Length - 1;

    private static async Task<PhysicalAddress> MacAsync(TopologyHost host)
    {
        var result = await host.Namespace.IpAsync(["-br", "link", "show", "dev", host.InterfaceName]);
        return PhysicalAddress.Parse(result.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2].Replace(':', '-'));
    }

    private static bool IsArpReply(byte[] frame) => frame.Length >= 42 && frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2;

    private static bool IsArpRequestFor(byte[] frame, IPAddress target) =>
        NeighborFrames.TryParseArpRequest(frame, out var request) && request.TargetAddress.Equals(target);

    /// <summary>Receives on a dedicated thread until disposed, keeping every frame.</summary>
    private sealed class Collector : IDisposable
    {
        private readonly PcapFrameChannel channel;
        private readonly Thread thread;

        private Collector(PcapFrameChannel channel)
        {
            this.channel = channel;
            thread = new Thread(Run) { IsBackground = true, Name = "pcap test collector" };
        }

        public ConcurrentQueue<byte[]> Frames { get; } = new();

        public static Collector Start(PcapFrameChannel channel)
        {
            var collector = new Collector(channel);
            collector.thread.Start();
            return collector;
        }

        /// <summary>The first frame kept that matches, polling every 20 ms for at most 10 s.</summary>
        public async Task<byte[]> WaitForAsync(Func<byte[], bool> match, CancellationToken cancellationToken)
        {
            var time = TimeProvider.System;
            long start = time.GetTimestamp();
            while (time.GetElapsedTime(start) < TimeSpan.FromSeconds(10))
            {
                if (Frames.FirstOrDefault(match) is { } frame)
                {
                    return frame;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
            }

            throw new AssertFailedException($"No matching frame within 10 s; {Frames.Count} frames kept.");
        }

        public void Dispose()
        {
            channel.Wake();
            thread.Join();
        }

        private void Run()
        {
            byte[] buffer = new byte[2048];
            int length;
            while ((length = channel.Receive(buffer)) >= 0)
            {
                if (length > 0)
                {
                    Frames.Enqueue(buffer[..length]);
                }
            }
        }
    }
}
