using System.Net.Sockets;
using Farm.Protocol;

namespace Farm.Daemon.Tests.Transport;

[TestClass]
public sealed class ConnectionTrackerTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Reset_OpenConnection_PeerSeesItResetAndOnlyTheFirstResetCounts()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndpoint, TestContext.CancellationToken);
        using var server = await listener.AcceptSocketAsync(TestContext.CancellationToken);
        var tracker = new ConnectionTracker();
        tracker.Opened(client);

        Assert.IsTrue(tracker.Reset());
        Assert.IsFalse(tracker.Reset(), "nothing left to drop");

        Assert.AreEqual(1, tracker.Resets);
        var e = Assert.ThrowsExactly<SocketException>(() => server.Receive(new byte[16]));
        Assert.AreEqual(SocketError.ConnectionReset, e.SocketErrorCode, "dropped at once with a RST, not a FIN after the unsent data");
    }

    [TestMethod]
    public void Reset_NothingOpened_False()
    {
        var tracker = new ConnectionTracker();

        Assert.IsFalse(tracker.Reset());
        Assert.AreEqual(0, tracker.Resets);
    }
}
