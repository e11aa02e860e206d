using System.Security.Cryptography.X509Certificates;

namespace Farm.Daemon.Tests.Web;

/// <summary>The web console with a users file: login, sessions, roles, antiforgery and the throttle, against farmd in process.</summary>
[TestClass]
public sealed class ConsoleLoginTests() : LoggedTempDirectoryTest("farmd-login-")
{
    private const string OperatorPassword = "operator-secret-1";
    private const string ViewerPassword = "viewer-secret-1";

    // The node, its console's base address and a client of it, once a test called StartAsync.
    private InProcessNode node = null!;
    private string console = null!;
    private HttpClient client = null!;

    public TestContext TestContext { get; set; } = null!;

    [TestCleanup]
    public async Task CleanupAsync()
    {
        client?.Dispose();
        if (node is not null)
        {
            await node.DisposeAsync();
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Login_RightPassword_SessionCookieHttpOnlySecureStrictAndThePageServed()
    {
        var ct = TestContext.CancellationToken;
        await StartAsync();

        using var before = await client.GetAsync(console + "/", ct);
        using var eventsBefore = await client.GetAsync(console + "/console/events", ct);
        using var login = await LoginAsync(client, console, "alice", OperatorPassword);
        string page = await client.GetStringAsync(console + "/", ct);
        var session = JsonDocument.Parse(await client.GetStringAsync(console + "/console/session", ct)).RootElement;

        Assert.AreEqual(HttpStatusCode.Redirect, before.StatusCode);
        Assert.AreEqual("/console/login", before.Headers.Location?.ToString());
        Assert.AreEqual(HttpStatusCode.Unauthorized, eventsBefore.StatusCode);
        Assert.AreEqual(HttpStatusCode.Redirect, login.StatusCode);
        Assert.AreEqual("/", login.Headers.Location?.ToString());
        string cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(WebConsoleLogin.CookieName + "=", StringComparison.Ordinal)).ToLowerInvariant();
        StringAssert.Contains(cookie, "; secure");
        StringAssert.Contains(cookie, "; httponly");
        StringAssert.Contains(cookie, "; samesite=strict");
        StringAssert.Contains(page, "/console/console.js");
        Assert.IsTrue(session.GetProperty("login").GetBoolean());
        Assert.AreEqual("alice", session.GetProperty("user").GetString());
        Assert.AreEqual("operator", session.GetProperty("role").GetString());
        Assert.IsFalse(string.IsNullOrEmpty(session.GetProperty("csrf").GetString()));
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 1702 && e.Message.Contains("alice", StringComparison.Ordinal)), "the login is logged");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Login_WrongPasswordOrUnknownUser_RefusedWithoutSessionAndLogged()
    {
        var ct = TestContext.CancellationToken;
        await StartAsync();

        using var wrong = await LoginAsync(client, console, "alice", "not-her-password");
        string body = await wrong.Content.ReadAsStringAsync(ct);
        using var unknown = await LoginAsync(client, console, "mallory", OperatorPassword);
        using var page = await client.GetAsync(console + "/", ct);

        Assert.AreEqual(HttpStatusCode.Unauthorized, wrong.StatusCode);
        StringAssert.Contains(body, "wrong user name or password");
        Assert.IsFalse(wrong.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith(WebConsoleLogin.CookieName + "=", StringComparison.Ordinal)));
        Assert.AreEqual(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.AreEqual(HttpStatusCode.Redirect, page.StatusCode, "still not logged in");
        Assert.AreEqual(2, Logs.Entries.Count(e => e.Id.Id == 1700 && e.Level == LogLevel.Warning));
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Login_FormPostedFromAnotherSite_RefusedWithoutLookingAtThePassword()
    {
        await StartAsync();

        using var crossSite = await LoginAsync(client, console, "alice", OperatorPassword, ("Sec-Fetch-Site", "cross-site"));
        using var otherOrigin = await LoginAsync(client, console, "alice", OperatorPassword, ("Origin", "https://evil.example"));
        using var nullOrigin = await LoginAsync(client, console, "alice", OperatorPassword, ("Origin", "null"), ("Sec-Fetch-Site", "same-origin"));

        Assert.AreEqual(HttpStatusCode.Forbidden, crossSite.StatusCode);
        Assert.AreEqual(HttpStatusCode.Forbidden, otherOrigin.StatusCode);
        Assert.AreEqual(HttpStatusCode.Redirect, nullOrigin.StatusCode, "what chromium sends from the page (Referrer-Policy no-referrer)");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task NoUsersFile_ConsoleOpenAndReadOnly_NoLoginNoActions()
    {
        var ct = TestContext.CancellationToken;
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port, consoleUsers: Path.Combine(Dir, "no-such-users-file"));
        await using var node = await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs);
        string console = $"https://127.0.0.1:{port + 1}";
        using var client = Client();

        using var page = await client.GetAsync(console + "/", ct);
        var session = JsonDocument.Parse(await client.GetStringAsync(console + "/console/session", ct)).RootElement;
        using var drain = await PostAsync(client, console + "/console/actions/drain", "any", ("node", "n1"));
        using var login = await LoginAsync(client, console, "alice", OperatorPassword);

        Assert.AreEqual(HttpStatusCode.OK, page.StatusCode);
        Assert.IsFalse(session.GetProperty("login").GetBoolean());
        Assert.AreEqual("viewer", session.GetProperty("role").GetString());
        Assert.IsTrue(drain.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, drain.StatusCode.ToString());
        Assert.IsTrue(login.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, login.StatusCode.ToString());
        Assert.IsFalse(node.Node.Drain.IsDrained);
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 1708), "the open console is logged");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Login_TooManyFailuresForOneUser_RefusedEvenWithTheRightPassword()
    {
        await StartAsync();

        for (int i = 0; i < ConsoleLoginThrottle.FailuresPerUser; i++)
        {
            using var wrong = await LoginAsync(client, console, "alice", "wrong-" + i);
            Assert.AreEqual(HttpStatusCode.Unauthorized, wrong.StatusCode, $"failure {i + 1}");
        }

        using var throttled = await LoginAsync(client, console, "alice", OperatorPassword);
        using var otherUser = await LoginAsync(Client(), console, "victor", ViewerPassword);

        Assert.AreEqual(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.IsTrue(throttled.Headers.Contains("Retry-After"));
        Assert.AreEqual(HttpStatusCode.Redirect, otherUser.StatusCode, "another user from the same address still logs in");
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 1701), "the refusal is logged");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Action_Viewer_403AndTheNodeStaysUndrained()
    {
        await StartAsync();
        string csrf = await SignInAsync(client, console, "victor", ViewerPassword);

        using var drain = await PostAsync(client, console + "/console/actions/drain", csrf, ("node", "n1"));

        Assert.AreEqual(HttpStatusCode.Forbidden, drain.StatusCode);
        Assert.IsFalse(node.Node.Drain.IsDrained);
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 1704 && e.Message.Contains("victor", StringComparison.Ordinal)));
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Action_OperatorWithoutOrWithAForgedCsrfToken_RefusedThenWithTheTokenDrainsAndResumes()
    {
        var ct = TestContext.CancellationToken;
        await StartAsync();
        string csrf = await SignInAsync(client, console, "alice", OperatorPassword);

        using var missing = await PostAsync(client, console + "/console/actions/drain", null, ("node", "n1"));
        using var forged = await PostAsync(client, console + "/console/actions/drain", "forged" + csrf[6..], ("node", "n1"));
        bool drainedBefore = node.Node.Drain.IsDrained;
        using var drain = await PostAsync(client, console + "/console/actions/drain", csrf, ("node", "n1"));
        string drained = await drain.Content.ReadAsStringAsync(ct);
        bool drainedAfter = node.Node.Drain.IsDrained;
        using var resume = await PostAsync(client, console + "/console/actions/resume", csrf, ("node", "n1"));
        using var unknown = await PostAsync(client, console + "/console/actions/drain", csrf, ("node", "n9"));

        Assert.AreEqual(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.AreEqual(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.IsFalse(drainedBefore, "nothing done without a valid token");
        Assert.AreEqual(HttpStatusCode.OK, drain.StatusCode, drained);
        StringAssert.Contains(drained, "n1: draining");
        Assert.IsTrue(drainedAfter);
        Assert.AreEqual(HttpStatusCode.OK, resume.StatusCode);
        Assert.IsFalse(node.Node.Drain.IsDrained);
        Assert.AreEqual(HttpStatusCode.BadRequest, unknown.StatusCode);
        StringAssert.Contains(await unknown.Content.ReadAsStringAsync(ct), "unknown node 'n9'");
        Assert.AreEqual(2, Logs.Entries.Count(e => e.Id.Id == 1705), "both refusals logged");
        Assert.IsTrue(Logs.Entries.Any(e => e.Id.Id == 520 && e.Message.Contains("console user alice", StringComparison.Ordinal)), "the drain names who asked");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Action_Weight_AppliesTheRunningFileWithTheNewWeightAndAHigherVersion()
    {
        var ct = TestContext.CancellationToken;
        await StartAsync();
        string csrf = await SignInAsync(client, console, "alice", OperatorPassword);

        using var weight = await PostAsync(client, console + "/console/actions/weight", csrf, ("node", "n1"), ("weight", "40"));
        string text = await weight.Content.ReadAsStringAsync(ct);

        // n2..n4 do not run here: only n1 applies, so the action as a whole reports a failure.
        StringAssert.Contains(text, "n1: applied, version 1, weight 100 -> 40");
        Assert.AreEqual(40, node.Node.Reloader.Running.Nodes.Single(n => n.Name == "n1").Weight);
        Assert.AreEqual(1, node.Node.Reloader.Running.Version);
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Action_ModuleRestartHereThenStopEverywhere_RunThroughTheModuleControl()
    {
        var ct = TestContext.CancellationToken;
        await StartAsync(withModule: true);
        string csrf = await SignInAsync(client, console, "alice", OperatorPassword);

        using var restart = await PostAsync(client, console + "/console/actions/module", csrf, ("module", "web"), ("action", "restart"), ("node", "n1"));
        string restarted = await restart.Content.ReadAsStringAsync(ct);
        using var everywhere = await PostAsync(client, console + "/console/actions/module", csrf, ("module", "web"), ("action", "stop"), ("node", "*"));
        string stopped = await everywhere.Content.ReadAsStringAsync(ct);
        using var unknown = await PostAsync(client, console + "/console/actions/module", csrf, ("module", "nope"), ("action", "start"), ("node", "n1"));

        Assert.AreEqual(HttpStatusCode.OK, restart.StatusCode, restarted);
        StringAssert.StartsWith(restarted, "n1: web restart asked");
        // n2..n4 do not run here: n1 stops the module, the others cannot be reached: 400 with each node's line.
        Assert.AreEqual(HttpStatusCode.BadRequest, everywhere.StatusCode);
        StringAssert.Contains(stopped, "n1: web stop asked");
        StringAssert.Contains(stopped, "n2: ");
        Assert.AreEqual(HttpStatusCode.BadRequest, unknown.StatusCode);
        StringAssert.Contains(await unknown.Content.ReadAsStringAsync(ct), "nope");
        Assert.IsTrue(Logs.Entries.Any(e => e.Message.Contains("admin restart by console user alice", StringComparison.Ordinal)), "the module's reason names who asked");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Events_UserRemovedFromTheFile_StreamEndsAndTheSessionWithIt()
    {
        var ct = TestContext.CancellationToken;
        await StartAsync();
        await SignInAsync(client, console, "victor", ViewerPassword);
        using var events = await client.GetAsync(console + "/console/events", HttpCompletionOption.ResponseHeadersRead, ct);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(ct));
        string? first;
        while ((first = await reader.ReadLineAsync(ct)) is not null && !first.StartsWith("data: ", StringComparison.Ordinal))
        {
        }

        var users = Farm.Protocol.Security.ConsoleUserFile.Read(Path.Combine(Dir, "console-users")).Users;
        Farm.Protocol.Security.ConsoleUserFile.Write(Path.Combine(Dir, "console-users"), users.Where(u => u.Name != "victor"));
        var ended = reader.ReadToEndAsync(ct);
        await Poll.UntilAsync(() => Task.FromResult(ended.IsCompleted), done => done, "the stream ends (a document at least every 2 s)", TimeSpan.FromSeconds(10), ct);
        using var page = await client.GetAsync(console + "/", ct);

        Assert.IsNotNull(first, "a document before the removal");
        Assert.AreEqual(HttpStatusCode.OK, events.StatusCode);
        Assert.AreEqual(HttpStatusCode.Redirect, page.StatusCode, "the session ended with the user");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Logout_WithToken_EndsTheSession()
    {
        var ct = TestContext.CancellationToken;
        await StartAsync();
        string csrf = await SignInAsync(client, console, "victor", ViewerPassword);

        using var logout = await PostAsync(client, console + "/console/logout", csrf);
        using var page = await client.GetAsync(console + "/", ct);

        Assert.AreEqual(HttpStatusCode.NoContent, logout.StatusCode);
        Assert.AreEqual(HttpStatusCode.Redirect, page.StatusCode);
    }

    /// <summary>Starts n1 with a users file: alice (operator) and victor (viewer), and module web or none; sets node, console and client.</summary>
    private async Task StartAsync(bool withModule = false)
    {
        string users = Path.Combine(Dir, "console-users");
        Farm.Protocol.Security.ConsoleUserFile.Write(users, [
            Farm.Protocol.Security.ConsoleUserFile.Create("alice", Farm.Protocol.Security.ConsoleRole.Operator, OperatorPassword),
            Farm.Protocol.Security.ConsoleUserFile.Create("victor", Farm.Protocol.Security.ConsoleRole.Viewer, ViewerPassword),
        ]);
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port, consoleUsers: users);
        List<ModuleConfig> modules = withModule ? [TestClusterFiles.WriteModule(Path.Combine(Dir, "modules"), "web", buckets: 256)] : [];
        node = await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs, modules);
        console = $"https://127.0.0.1:{port + 1}";
        client = Client();
    }

    /// <summary>Posts the login form as a browser does from the console's page, or with the given headers instead.</summary>
    private async Task<HttpResponseMessage> LoginAsync(HttpClient client, string console, string user, string password, params (string Name, string Value)[] headers)
    {
        using var form = new FormUrlEncodedContent([new("user", user), new("password", password)]);
        using var request = new HttpRequestMessage(HttpMethod.Post, console + "/console/login") { Content = form };
        foreach (var (name, value) in headers.Length > 0 ? headers : [("Origin", console), ("Sec-Fetch-Site", "same-origin")])
        {
            request.Headers.Add(name, value);
        }

        return await client.SendAsync(request, TestContext.CancellationToken);
    }

    /// <summary>Logs in (it must work) and returns the session's antiforgery token.</summary>
    private async Task<string> SignInAsync(HttpClient client, string console, string user, string password)
    {
        using var login = await LoginAsync(client, console, user, password);
        Assert.AreEqual(HttpStatusCode.Redirect, login.StatusCode, $"{user} logs in");
        return JsonDocument.Parse(await client.GetStringAsync(console + "/console/session", TestContext.CancellationToken)).RootElement.GetProperty("csrf").GetString()!;
    }

    private async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, string? csrf, params (string Name, string Value)[] fields)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))) };
        if (csrf is not null)
        {
            request.Headers.Add(WebConsoleLogin.CsrfHeader, csrf);
        }

        return await client.SendAsync(request, TestContext.CancellationToken);
    }

    /// <summary>A browser-like client: keeps cookies, does not follow redirects, trusts n1's self-signed certificate.</summary>
    private static HttpClient Client() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = true,
        CookieContainer = new CookieContainer(),
        SslOptions =
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && Farm.Protocol.Tls.ClusterTls.NamesOf(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData())).Contains("n1"),
        },
    });
}
