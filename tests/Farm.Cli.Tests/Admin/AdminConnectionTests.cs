using System.Net.Sockets;

namespace Farm.Cli.Tests.Admin;

/// <summary>What the operator reads when farmd cannot be asked.</summary>
[TestClass]
public sealed class AdminConnectionTests
{
    [TestMethod]
    public async Task Status_NoSocketAtThePath_SaysFarmdIsNotRunningExitOne()
    {
        string path = Path.Combine(Path.GetTempPath(), $"farmctl-missing-{Environment.ProcessId}.sock");
        var run = await TestCli.RunAsync(["status", "--socket", path]).WithTimeout();

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        StringAssert.StartsWith(run.Error, $"farmctl: farmd is not running on this node, or it listens elsewhere: --socket PATH (cannot connect to {path}: no such socket)");
        Assert.AreEqual("", run.Output);
    }

    [TestMethod]
    public async Task Status_SocketThatNeverAnswers_TimesOutExitOne()
    {
        string dir = Directory.CreateTempSubdirectory("farmctl-silent-").FullName;
        string path = Path.Combine(dir, "silent.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        try
        {
            var run = await TestCli.RunAsync(["status", "--socket", path, "--timeout", "300ms"]).WithTimeout();
            Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
            Assert.AreEqual($"farmctl: farmd at {path} did not answer within 300 ms\n", run.Error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public async Task Watch_HostThatNeverAnswers_TimesOutExitOne()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var (run, _) = await TestCli.RunWithKeyFileAsync(
            "some-cluster-key-0123456789\n", keyFile => ["status", "--watch", "--host", $"127.0.0.1:{port}", "--key-file", keyFile, "--timeout", "300ms"]);

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        Assert.AreEqual($"farmctl: farmd at 127.0.0.1:{port} did not answer within 300 ms\n", run.Error);
    }

    [TestMethod]
    public async Task Status_HostWithNothingListening_CannotReachExitOne()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var (run, _) = await TestCli.RunWithKeyFileAsync("some-cluster-key-0123456789", keyFile => ["status", "--host", $"127.0.0.1:{port}", "--key-file", keyFile]);

        Assert.AreEqual(CliApp.ExitFailed, run.ExitCode);
        StringAssert.StartsWith(run.Error, $"farmctl: cannot reach farmd at 127.0.0.1:{port}: connection refused");
    }

    [TestMethod]
    public void Translate_SocketPermissionDenied_SaysRunAsRoot()
    {
        // Root (which runs these tests) passes the socket's 0600 mode, so EACCES is built here rather than provoked.
        using var connection = new AdminConnection(AdminTarget.Local("/run/farm/farmd.sock"));
        var denied = new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, "connect failed", new HttpRequestException("x", new SocketException((int)SocketError.AccessDenied))));

        var error = connection.Translate(denied, "/farm.v1.Admin/GetStatus");
        Assert.AreEqual("permission denied on /run/farm/farmd.sock: run as root (farmd's admin socket is root-only)", error.Message);
    }

    [TestMethod]
    [DataRow(StatusCode.Unauthenticated, "refused: bad_mac", "refused the call (refused: bad_mac): the key in --cluster/--key-file is not this cluster's")]
    [DataRow(StatusCode.DeadlineExceeded, "", "did not answer within 5 s")]
    [DataRow(StatusCode.Unimplemented, "", "does not implement /farm.v1.Admin/WhoOwns: it runs an older farmd")]
    [DataRow(StatusCode.InvalidArgument, "unknown module 'db' (modules: web)", "unknown module 'db' (modules: web)")]
    public void Translate_RemoteStatus_OperatorMessage(StatusCode code, string detail, string expected)
    {
        using var connection = new AdminConnection(new AdminTarget { Host = "10.0.0.2", Port = 9400, Key = "k" });
        var error = connection.Translate(new RpcException(new Grpc.Core.Status(code, detail)), "/farm.v1.Admin/WhoOwns");
        StringAssert.Contains(error.Message, expected);
    }
}
