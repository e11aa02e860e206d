using System.Net.NetworkInformation;

namespace Farm.EndToEnd.Tests.Harness;

[TestClass]
public sealed class NetworkNamespaceTests(TestContext testContext)
{
    [TestInitialize]
    public Task RequireNamespaces() => Requirements.NamespacesAsync(needNft: false);

    [TestMethod]
    public async Task CreateAsync_NewNamespace_NamedAfterPrefixAndPidAndListed()
    {
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);

        StringAssert.StartsWith(ns.Name, $"farmt-{Environment.ProcessId}-");
        CollectionAssert.Contains(await ListNamespacesAsync(), ns.Name);
        Assert.IsTrue(File.Exists(ns.FilePath), ns.FilePath);
    }

    [TestMethod]
    public async Task CreateAsync_TwoNamespaces_GetDistinctNames()
    {
        await using var first = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await using var second = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        Assert.AreNotEqual(first.Name, second.Name);
    }

    [TestMethod]
    public async Task DisposeAsync_Namespace_IsDeleted()
    {
        var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await ns.DisposeAsync();
        await ns.DisposeAsync(); // idempotent

        CollectionAssert.DoesNotContain(await ListNamespacesAsync(), ns.Name);
        Assert.IsFalse(File.Exists(ns.FilePath));
    }

    [TestMethod]
    public async Task RunAsync_Delegate_SeesTheNamespacesInterfacesNotTheHosts()
    {
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        // Both ends of the pair are created inside the namespace; the host never sees either.
        await ns.IpAsync(["link", "add", "farmva", "type", "veth", "peer", "name", "farmvb"], testContext.CancellationToken);

        string[] inside = await ns.RunAsync(() => NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).Order().ToArray());
        string[] outside = NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).ToArray();

        CollectionAssert.AreEqual(new[] { "farmva", "farmvb", "lo" }, inside);
        CollectionAssert.DoesNotContain(outside, "farmva");
        CollectionAssert.DoesNotContain(outside, "farmvb");
    }

    [TestMethod]
    public async Task RunAsync_SocketCreatedInside_StaysInNamespaceWhenUsedOutside()
    {
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await ns.SetLinkUpAsync("lo", testContext.CancellationToken);
        await ns.AddAddressAsync("lo", IPAddress.Parse("198.18.0.1"), 32, testContext.CancellationToken);

        // Created inside, where 198.18.0.1 exists; used afterwards from this (root-namespace) thread.
        using var receiver = await ns.RunAsync(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Parse("198.18.0.1"), 0));
            return s;
        });
        using var sender = await ns.RunAsync(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));

        sender.SendTo("ping"u8, receiver.LocalEndPoint!);
        byte[] buffer = new byte[16];
        receiver.ReceiveTimeout = 5000;
        int n = receiver.Receive(buffer);

        Assert.AreEqual("ping", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
    }

    [TestMethod]
    public async Task AddVethPairAsync_TwoNamespaces_DatagramCrossesThePair()
    {
        await using var left = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await using var right = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await left.AddVethPairAsync("farml", right, "farmr", testContext.CancellationToken);
        await left.AddAddressAsync("farml", IPAddress.Parse("198.18.1.1"), 24, testContext.CancellationToken);
        await right.AddAddressAsync("farmr", IPAddress.Parse("198.18.1.2"), 24, testContext.CancellationToken);
        await left.SetLinkUpAsync("farml", testContext.CancellationToken);
        await right.SetLinkUpAsync("farmr", testContext.CancellationToken);

        using var receiver = await right.RunAsync(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
            s.Bind(new IPEndPoint(IPAddress.Parse("198.18.1.2"), 0));
            return s;
        });
        using var sender = await left.RunAsync(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        sender.SendTo("across"u8, receiver.LocalEndPoint!);

        byte[] buffer = new byte[16];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = receiver.ReceiveFrom(buffer, ref from);

        Assert.AreEqual("across", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        Assert.AreEqual(IPAddress.Parse("198.18.1.1"), ((IPEndPoint)from).Address);
        CollectionAssert.DoesNotContain(NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).ToArray(), "farml");
    }

    [TestMethod]
    public async Task AddVethPairAsync_NameLongerThanIfnamsiz_Throws()
    {
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => ns.AddVethPairAsync("farm-much-too-long", ns, "b"));
    }

    [TestMethod]
    public async Task RunAsync_ThrowingDelegate_FaultsTaskWithTheException()
    {
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);
        await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => ns.RunAsync(() => throw new InvalidOperationException("inside")));
    }

    [TestMethod]
    public async Task ExecAsync_FailingCommand_ThrowsNamingCommandExitCodeAndStderr()
    {
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);

        var e = await Assert.ThrowsExactlyAsync<CommandFailedException>(
            () => ns.ExecAsync("sh", ["-c", "echo boom >&2; exit 3"], cancellationToken: testContext.CancellationToken));

        StringAssert.Contains(e.Message, "exit code 3");
        StringAssert.Contains(e.Message, "boom");
        StringAssert.Contains(e.Message, $"netns exec {ns.Name} sh -c");
        Assert.AreEqual(3, e.Result!.ExitCode);
    }

    [TestMethod]
    public async Task AddAddressAsync_AddressOutsideTestRanges_RefusedBeforeAnyCommand()
    {
        await using var ns = await NetworkNamespace.CreateAsync(cancellationToken: testContext.CancellationToken);

        await Assert.ThrowsExactlyAsync<ArgumentOutOfRangeException>(() => ns.AddAddressAsync("lo", IPAddress.Parse("10.0.0.1"), 32));
        await Assert.ThrowsExactlyAsync<ArgumentOutOfRangeException>(() => ns.AddAddressAsync("lo", IPAddress.Parse("198.18.0.1"), 8));
        await Assert.ThrowsExactlyAsync<ArgumentOutOfRangeException>(() => ns.AddAddressAsync("lo", IPAddress.Parse("fd00::1"), 128));

        var shown = await ns.IpAsync(["-o", "address", "show", "dev", "lo"], testContext.CancellationToken);
        Assert.DoesNotContain("10.0.0.1", shown.StandardOutput);
        Assert.DoesNotContain("198.18.0.1", shown.StandardOutput);
    }

    [TestMethod]
    public async Task SweepLeftoversAsync_LeftoverOfDeadProcess_DeletedAndLiveOnesKept()
    {
        // pid_max + 1 can never be a live pid; pid 1 is always alive.
        int deadPid = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture) + 1;
        string dead = $"farmt-{deadPid}-1";
        string live = $"farmt-1-{Environment.ProcessId}";
        string ip = ToolLocator.Require("ip", "iproute2");
        await CommandRunner.Default.RunAsync(ip, ["netns", "add", dead], cancellationToken: testContext.CancellationToken);
        await CommandRunner.Default.RunAsync(ip, ["netns", "add", live], cancellationToken: testContext.CancellationToken);
        try
        {
            int deleted = await NetworkNamespace.SweepLeftoversAsync(cancellationToken: testContext.CancellationToken);

            var remaining = await ListNamespacesAsync();
            CollectionAssert.DoesNotContain(remaining, dead);
            CollectionAssert.Contains(remaining, live);
            Assert.IsGreaterThanOrEqualTo(1, deleted);
        }
        finally
        {
            await CommandRunner.Default.RunUncheckedAsync(ip, ["netns", "delete", dead]);
            await CommandRunner.Default.RunUncheckedAsync(ip, ["netns", "delete", live]);
        }
    }

    private async Task<List<string>> ListNamespacesAsync()
    {
        var result = await CommandRunner.Default.RunAsync(ToolLocator.Require("ip", "iproute2"), ["netns", "list"], cancellationToken: testContext.CancellationToken);
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0])];
    }
}
