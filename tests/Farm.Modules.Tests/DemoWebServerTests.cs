using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Farm.Testing.Files;
using Farm.Testing.Processes;

namespace Farm.Modules.Tests;

/// <summary>
/// The example module's web server (docs/examples/modules/demo-web/app/server.py) under a burst of connections: the
/// kernel must complete every handshake even while the server accepts none, because a SYN that finds the listener's
/// accept queue full is dropped without an answer. In the demo such SYNs, admitted by the farm's filter and confirmed
/// by conntrack, stayed as <c>SYN_SENT [UNREPLIED]</c> entries for two minutes (docs/architecture.md, data plane).
/// </summary>
[TestClass]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DemoWebServerTests
{
    private const int Burst = 64;

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Server_BurstWhileItAcceptsNothing_KernelCompletesEveryHandshake()
    {
        int port = LoopbackPorts.FreeOn(1);
        string module = RepositoryFiles.Path("docs", "examples", "modules", "demo-web");
        var info = new ProcessStartInfo("python3") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])[Path.Combine(module, "app", "server.py"), "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--root", Path.Combine(module, "www"), "--node", "n1"])
        {
            info.ArgumentList.Add(argument);
        }

        using var server = Process.Start(info) ?? throw new InvalidOperationException("python3 did not start");
        string pid = server.Id.ToString(CultureInfo.InvariantCulture);
        try
        {
            await Poll.UntilAsync(() => TryConnectAsync(port, TimeSpan.FromMilliseconds(500)), up => up, "the server listening", Poll.DefaultTimeout, CancellationToken.None, TimeSpan.FromMilliseconds(100));

            // Stopped, the server accepts nothing: only the listen backlog decides how many handshakes the kernel completes.
            await CommandRunner.Default.RunAsync("kill", ["-STOP", pid]);
            var connects = await Task.WhenAll(Enumerable.Range(0, Burst).Select(_ => TryConnectAsync(port, TimeSpan.FromSeconds(2))));

            int completed = connects.Count(c => c);
            Assert.AreEqual(Burst, completed, $"the kernel completed {completed} handshakes of {Burst} clients while the server accepted nothing");
        }
        finally
        {
            await CommandRunner.Default.RunUncheckedAsync("kill", ["-CONT", pid]);
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(CancellationToken.None).WithTimeout();
        }
    }

    // The socket closes at once: a completed connection stays in the accept queue (and counts against the backlog)
    // until the server accepts it, whether or not its client still holds it.
    private static async Task<bool> TryConnectAsync(int port, TimeSpan timeout)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return false;
        }
    }
}
