namespace Farm.EndToEnd.Tests.Harness;

/// <summary>The tests' and benchmarks' app: answers a TCP connection with the node's name at once and on every chunk, and stops cleanly.</summary>
[TestClass]
public sealed class NameServerTests(TestContext testContext)
{
    private const int Port = 7000;
    private static readonly IPAddress Address = IPAddress.Parse("198.18.0.1");

    [TestInitialize]
    public Task RequireNamespaces() => Requirements.NamespacesAsync(needNft: false);

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public async Task StartAsync_TcpConnection_GetsTheNameAtOnceAndForEveryChunk()
    {
        await using var ns = await LoopbackNamespaceAsync();
        await using var server = await NameServer.StartAsync(ns, "node7", [Port], []);

        using var client = await ConnectAsync(ns);
        Assert.AreEqual("node7\n", await ReadLineAsync(client));
        await client.SendAsync("more"u8.ToArray(), testContext.CancellationToken);
        Assert.AreEqual("node7\n", await ReadLineAsync(client));
        Assert.AreEqual(1, server.Connections);
    }

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public async Task DisposeAsync_Listening_StopsAcceptingAndRefusesNewConnections()
    {
        await using var ns = await LoopbackNamespaceAsync();
        var server = await NameServer.StartAsync(ns, "node7", [Port], []);
        using (var first = await ConnectAsync(ns))
        {
            Assert.AreEqual("node7\n", await ReadLineAsync(first));
        }

        await server.DisposeAsync();
        await server.DisposeAsync(); // a second call does nothing

        var refused = await Assert.ThrowsExactlyAsync<SocketException>(() => ConnectAsync(ns));
        Assert.AreEqual(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    private async Task<NetworkNamespace> LoopbackNamespaceAsync()
    {
        var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await ns.SetLinkUpAsync("lo", testContext.CancellationToken);
        await ns.AddAddressAsync("lo", Address, 32, testContext.CancellationToken);
        return ns;
    }

    private async Task<Socket> ConnectAsync(NetworkNamespace ns)
    {
        var socket = await ns.RunAsync(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(Address, Port), testContext.CancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<string> ReadLineAsync(Socket socket)
    {
        byte[] buffer = new byte[64];
        int length = 0;
        do
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(length), testContext.CancellationToken);
            Assert.AreNotEqual(0, n, "the server closed the connection");
            length += n;
        }
        while (Array.IndexOf(buffer, (byte)'\n', 0, length) < 0);

        return Encoding.ASCII.GetString(buffer, 0, length);
    }
}
