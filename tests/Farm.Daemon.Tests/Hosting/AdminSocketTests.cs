using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Farm.Daemon.Tests.Hosting;

/// <summary>The admin socket's folder, mode and peer check (SO_PEERCRED), with real sockets and, as root, a real other user.</summary>
[TestClass]
public sealed class AdminSocketTests() : TempDirectoryTest("farmd-admin-")
{
    private const uint Nobody = 65534;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [TestMethod]
    [DataRow(0u, 0u, null, true)]
    [DataRow(1000u, 1000u, null, false)]
    [DataRow(1000u, 1000u, 50u, false)]
    [DataRow(1000u, 50u, 50u, true)]
    [DataRow(1000u, 1000u, 60u, true)] // supplementary group 60 below
    [DataRow(4242u, 4242u, null, true)] // farmd's own user
    public void Allows_UidGidAndGroups_OnlyRootSelfAndTheAdminGroup(uint uid, uint gid, uint? adminGid, bool expected) =>
        Assert.AreEqual(expected, AdminPeerPolicy.Allows(uid, gid, [60u, 70u], selfUid: 4242, adminGid));

    [TestMethod]
    public void CredentialsOf_ConnectionFromThisProcess_IsOurPidAndUid()
    {
        using var pair = SocketPair.Listen(Path.Combine(Dir, "a.sock"));
        using var client = pair.Connect();
        using var accepted = pair.Accept();

        var peer = AdminPeerPolicy.CredentialsOf(accepted);

        Assert.AreEqual((Environment.ProcessId, StatxFileInspector.Instance.EffectiveUid), (peer!.Value.Pid, peer.Value.Uid));
    }

    [TestMethod]
    public async Task Middleware_CallerAsAnotherUser_IsClosedUnlessInTheAdminGroup()
    {
        RequireRootAndSetpriv();
        File.SetUnixFileMode(Dir, OwnerOnly | UnixFileMode.OtherExecute); // only for this test: let nobody reach the socket
        string path = Path.Combine(Dir, "admin.sock");
        using var listener = SocketPair.Listen(path);
        File.SetUnixFileMode(path, (UnixFileMode)0x1ff);

        using var nobody = ConnectAsNobody(path);
        using var accepted = listener.Accept();
        var rootOnly = new AdminPeerPolicy(0, null, NullLogger.Instance);
        var adminGroup = new AdminPeerPolicy(0, Nobody, NullLogger.Instance);

        Assert.AreEqual(Nobody, AdminPeerPolicy.CredentialsOf(accepted)!.Value.Uid);
        Assert.AreEqual((false, true), (await Passes(rootOnly, accepted), await Passes(adminGroup, accepted)));

        using var self = listener.Connect();
        using var root = listener.Accept();
        Assert.IsTrue(await Passes(rootOnly, root));
        nobody.Kill();
    }

    [TestMethod]
    public async Task PeerCheck_WiredIntoAKestrelUnixListener_AnswersRootAndClosesOtherUsers()
    {
        RequireRootAndSetpriv();
        File.SetUnixFileMode(Dir, OwnerOnly | UnixFileMode.OtherExecute); // only for this test: let nobody reach the socket
        string path = Path.Combine(Dir, "admin.sock");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The line DaemonHost adds to its admin listener.
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(path, l => l.Use(AdminSocket.PeerCheck(null, l.ApplicationServices.GetRequiredService<ILoggerFactory>()))));
        await using var app = builder.Build();
        app.MapGet("/", () => "ok");
        await app.StartAsync();
        File.SetUnixFileMode(path, (UnixFileMode)0x1ff);

        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });
        Assert.AreEqual("ok", await http.GetStringAsync(new Uri("http://farmd/")));

        var psi = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "/usr/bin/python3", "-c", "import socket,sys\ns=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print('connected')\ntry:\n  s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); s.settimeout(10); print(repr(s.recv(100)))\nexcept (ConnectionResetError, BrokenPipeError):\n  print('reset')", path })
        {
            psi.ArgumentList.Add(arg);
        }

        using var nobody = Process.Start(psi)!;
        string answer = (await nobody.StandardOutput.ReadToEndAsync()).Trim();
        await nobody.WaitForExitAsync();
        string[] lines = answer.Split('\n', StringSplitOptions.TrimEntries);
        Assert.AreEqual("connected", lines[0], answer);
        Assert.IsTrue(lines[1] is "b''" or "reset", "nobody got an answer instead of a closed connection: " + answer);
        await app.StopAsync();
    }

    [TestMethod]
    public async Task Middleware_ConnectionWithoutSocket_IsClosed()
    {
        var policy = new AdminPeerPolicy(0, null, NullLogger.Instance);
        var connection = new DefaultConnectionContext();
        bool called = false;

        await policy.Middleware(_ => { called = true; return Task.CompletedTask; })(connection);

        Assert.IsFalse(called);
    }

    [TestMethod]
    public void Prepare_MissingFolder_CreatesIt0700AndRemovesAStaleSocket()
    {
        string path = Path.Combine(Dir, "run", "farmd.sock");

        Assert.IsNull(AdminSocket.Prepare(path));
        Assert.AreEqual(OwnerOnly, File.GetUnixFileMode(Path.Combine(Dir, "run")));

        using (SocketPair.Listen(path))
        {
            StringAssert.Contains(AdminSocket.Prepare(path), "another process listens on the admin socket");
        }

        // A crashed farmd leaves its socket file, nobody listening (.NET unlinks on dispose; any file will do).
        File.WriteAllText(path, "");
        Assert.IsNull(AdminSocket.Prepare(path));
        Assert.IsFalse(File.Exists(path));
    }

    [TestMethod]
    [DataRow(0x1ed, "must be closed to others (mode 0755): run 'chmod 700 ")] // 0755, like /run
    [DataRow(0x1e8, "must be closed to others (mode 0750)")] // group access without an admin group
    [DataRow(0x3ff, "must be farmd's own: ")] // 1777, like /tmp
    public void Prepare_FolderOthersMayEnter_IsRefused(int mode, string message)
    {
        File.SetUnixFileMode(Dir, (UnixFileMode)mode);

        string? problem = AdminSocket.Prepare(Path.Combine(Dir, "farmd.sock"));

        StringAssert.Contains(problem, message);
        File.SetUnixFileMode(Dir, OwnerOnly);
    }

    [TestMethod]
    public void Restrict_WithAndWithoutAdminGroup_SetsTheModeAndGroup()
    {
        string path = Path.Combine(Dir, "farmd.sock");
        using var listener = SocketPair.Listen(path);

        AdminSocket.Restrict(path);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        AdminSocket.Restrict(path, Nobody);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(path));
        Assert.AreEqual(Nobody, StatxFileInspector.Instance.Inspect(path)!.Value.GroupGid);
    }

    [TestMethod]
    public void UnixGroups_Resolve_NamesAndNumbers()
    {
        Assert.AreEqual(0u, UnixGroups.Resolve("root"));
        Assert.AreEqual(1234u, UnixGroups.Resolve("1234"));
        Assert.IsNull(UnixGroups.Resolve("no-such-group-" + Environment.ProcessId));
    }

    private static async Task<bool> Passes(AdminPeerPolicy policy, Socket socket)
    {
        var connection = new DefaultConnectionContext();
        connection.Features.Set<IConnectionSocketFeature>(new SocketFeature(socket));
        bool called = false;
        await policy.Middleware(_ => { called = true; return Task.CompletedTask; })(connection);
        return called;
    }

    private static void RequireRootAndSetpriv()
    {
        if (StatxFileInspector.Instance.EffectiveUid != 0 || !File.Exists("/usr/bin/setpriv") || !File.Exists("/usr/bin/python3"))
        {
            Assert.Inconclusive("needs root, setpriv and /usr/bin/python3 to connect as another user");
        }
    }

    /// <summary>A process running as nobody that connects to <paramref name="path"/> and waits.</summary>
    private static Process ConnectAsNobody(string path)
    {
        var psi = new ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "/usr/bin/python3", "-c", "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print('connected', flush=True); time.sleep(30)", path })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi)!;
        Assert.AreEqual("connected", process.StandardOutput.ReadLine());
        return process;
    }

    private sealed class SocketFeature(Socket socket) : IConnectionSocketFeature
    {
        public Socket Socket { get; } = socket;
    }

    /// <summary>A listening Unix socket; connect and accept on it.</summary>
    private sealed class SocketPair : IDisposable
    {
        private readonly Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly string path;

        private SocketPair(string path) => this.path = path;

        public static SocketPair Listen(string path)
        {
            var pair = new SocketPair(path);
            pair.listener.Bind(new UnixDomainSocketEndPoint(path));
            pair.listener.Listen(4);
            return pair;
        }

        public Socket Connect()
        {
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(path));
            return client;
        }

        public Socket Accept() => listener.Accept();

        public void Dispose() => listener.Dispose();
    }
}
