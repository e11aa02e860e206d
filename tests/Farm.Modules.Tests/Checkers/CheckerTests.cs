using System.Diagnostics;
using System.Net.Sockets;

namespace Farm.Modules.Tests.Checkers;

/// <summary>The real checkers against loopback listeners, fake proc/sys trees and real scripts opened by the tests themselves.</summary>
[TestClass]
public sealed class CheckerTests : ScriptDirectoryTest
{

    [TestMethod]
    public async Task Tcp_ListeningPort_IsUp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var checker = new TcpChecker(new TcpCheckerConfig { Name = "t", Address = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port });

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.IsTrue(result.Up, result.Detail);
    }

    [TestMethod]
    public async Task Tcp_ClosedPort_IsDownWithConnectionRefused()
    {
        int port = LoopbackPorts.FreeOn(1);

        var checker = new TcpChecker(new TcpCheckerConfig { Name = "t", Address = "127.0.0.1", Port = port });

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.AreEqual(new CheckResult(false, $"connect to 127.0.0.1:{port}: connection refused"), result);
    }

    [TestMethod]
    public async Task Http_ExpectedStatusAndBody_IsUp()
    {
        await using var server = new TinyHttpServer { Body = "status: ok" };
        using var checker = new HttpChecker(new HttpCheckerConfig { Name = "h", Url = server.Url, ExpectBody = "ok" });

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.IsTrue(result.Up, result.Detail);
    }

    [TestMethod]
    public async Task Http_WrongStatus_IsDown()
    {
        await using var server = new TinyHttpServer { Status = 503 };
        using var checker = new HttpChecker(new HttpCheckerConfig { Name = "h", Url = server.Url });

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.IsFalse(result.Up);
        Assert.Contains("answered 503, expected 200", result.Detail);
    }

    [TestMethod]
    public async Task Http_BodyWithoutTheExpectedText_IsDown()
    {
        await using var server = new TinyHttpServer { Body = "starting" };
        using var checker = new HttpChecker(new HttpCheckerConfig { Name = "h", Url = server.Url, ExpectBody = "ready" });

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.IsFalse(result.Up);
        Assert.Contains("without 'ready'", result.Detail);
    }

    [TestMethod]
    public async Task Http_NobodyListening_IsDown()
    {
        using var checker = new HttpChecker(new HttpCheckerConfig { Name = "h", Url = new Uri("http://127.0.0.1:1/health") });

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.IsFalse(result.Up);
        Assert.Contains("connection refused", result.Detail);
    }

    [TestMethod]
    public async Task Process_CountsByNameWithinMinAndMax()
    {
        string proc = FakeProc(("101", "postgres", "postgres\0-D\0/data\0"), ("102", "postgres", "postgres\0"), ("103", "bash", "bash\0"), ("self", "x", "x"));

        var atLeastTwo = await new ProcessChecker(new ProcessCheckerConfig { Name = "p", ProcessName = "postgres", Min = 2 }, proc).CheckAsync(Poll.Deadline());
        var atMostOne = await new ProcessChecker(new ProcessCheckerConfig { Name = "p", ProcessName = "postgres", Max = 1 }, proc).CheckAsync(Poll.Deadline());

        Assert.AreEqual(new CheckResult(true, "2 process(es) named 'postgres', within at least 2"), atLeastTwo);
        Assert.AreEqual(new CheckResult(false, "2 process(es) named 'postgres', expected 1..1"), atMostOne);
    }

    [TestMethod]
    public async Task Process_LongNameTruncatedInComm_MatchesByArgv0()
    {
        string proc = FakeProc(("201", "very-long-daemo", "/usr/sbin/very-long-daemon-name\0--flag\0"));

        var result = await new ProcessChecker(new ProcessCheckerConfig { Name = "p", ProcessName = "very-long-daemon-name" }, proc).CheckAsync(Poll.Deadline());

        Assert.IsTrue(result.Up, result.Detail);
    }

    [TestMethod]
    public async Task Process_RegexAgainstTheRealProcTable_FindsAProcessWeStarted()
    {
        string marker = "farm-marker-" + Guid.NewGuid().ToString("N")[..8];
        using var sleeper = Process.Start(new ProcessStartInfo("bash", ["-c", $"sleep 600; : {marker}"]))!;
        try
        {
            var checker = new ProcessChecker(new ProcessCheckerConfig { Name = "p", Regex = $"^bash -c sleep 600; : {marker}$", Min = 1 });
            // Process.Start can return while the child is still inside execve, before /proc shows its new command line.
            Assert.IsTrue(SpinWait.SpinUntil(() => File.ReadAllText($"/proc/{sleeper.Id}/cmdline").Contains(marker, StringComparison.Ordinal), TimeSpan.FromSeconds(10)));

            var up = await checker.CheckAsync(Poll.Deadline());
            sleeper.Kill(entireProcessTree: true);
            await sleeper.WaitForExitAsync().WithTimeout();
            var down = await checker.CheckAsync(Poll.Deadline());

            Assert.IsTrue(up.Up, up.Detail);
            Assert.IsFalse(down.Up, down.Detail);
        }
        finally
        {
            sleeper.Kill(entireProcessTree: true);
        }
    }

    [TestMethod]
    public async Task Interface_Loopback_IsUp()
    {
        var result = await new InterfaceChecker(new InterfaceCheckerConfig { Name = "i", Interface = "lo" }).CheckAsync(Poll.Deadline());

        Assert.IsTrue(result.Up, result.Detail);
    }

    [TestMethod]
    public async Task Interface_NoCarrierOrMissing_IsDown()
    {
        string sys = Path.Combine(Dir.Root, "net");
        Directory.CreateDirectory(Path.Combine(sys, "eth0"));
        File.WriteAllText(Path.Combine(sys, "eth0", "operstate"), "down\n");
        File.WriteAllText(Path.Combine(sys, "eth0", "carrier"), "0\n");

        var noCarrier = await new InterfaceChecker(new InterfaceCheckerConfig { Name = "i", Interface = "eth0" }, sys).CheckAsync(Poll.Deadline());
        var missing = await new InterfaceChecker(new InterfaceCheckerConfig { Name = "i", Interface = "eth9" }, sys).CheckAsync(Poll.Deadline());

        Assert.AreEqual(new CheckResult(false, "eth0: operstate down, carrier 0"), noCarrier);
        Assert.AreEqual(new CheckResult(false, "interface eth9 does not exist"), missing);
    }

    [TestMethod]
    public async Task Ping_Loopback_IsUp()
    {
        var checker = new PingChecker(new PingCheckerConfig { Name = "g", Address = "127.0.0.1", Timeout = TimeSpan.FromSeconds(2) });

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.IsTrue(result.Up, result.Detail);
    }

    [TestMethod]
    public async Task Custom_ExitCodeDecides_AndTheLastLineIsTheDetail()
    {
        Dir.Write("checkers/db", "if [ -f down ]; then echo \"replication lag on $FARM_CHECKER\"; exit 1; fi\necho fine");
        var runner = new ProcessScriptRunner(TimeProvider.System, new TestLogSink().CreateLogger<ProcessScriptRunner>());
        var context = new CheckerContext("web", Dir.Root, runner, new Dictionary<string, string>());
        var checker = new CustomChecker(new CustomCheckerConfig { Name = "db", Script = "checkers/db" }, context);

        var up = await checker.CheckAsync(Poll.Deadline()).WithTimeout();
        File.WriteAllText(Dir.PathOf("down"), "");
        var down = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.AreEqual(new CheckResult(true, "fine"), up);
        Assert.AreEqual(new CheckResult(false, "checkers/db: exit code 1 (replication lag on db)"), down);
    }

    [TestMethod]
    public async Task Custom_MissingScript_IsDown()
    {
        var runner = new ProcessScriptRunner(TimeProvider.System, new TestLogSink().CreateLogger<ProcessScriptRunner>());
        var context = new CheckerContext("web", Dir.Root, runner, new Dictionary<string, string>());
        var checker = new CustomChecker(new CustomCheckerConfig { Name = "db", Script = "checkers/none" }, context);

        var result = await checker.CheckAsync(Poll.Deadline()).WithTimeout();

        Assert.AreEqual(new CheckResult(false, "checkers/none does not exist"), result);
    }

    private string FakeProc(params (string Pid, string Comm, string Cmdline)[] processes)
    {
        string root = Path.Combine(Dir.Root, "proc");
        foreach (var (pid, comm, cmdline) in processes)
        {
            Directory.CreateDirectory(Path.Combine(root, pid));
            File.WriteAllText(Path.Combine(root, pid, "comm"), comm + "\n");
            File.WriteAllText(Path.Combine(root, pid, "cmdline"), cmdline);
        }

        return root;
    }
}
