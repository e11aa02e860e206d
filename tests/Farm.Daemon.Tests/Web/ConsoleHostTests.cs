using System.Security.Cryptography.X509Certificates;

namespace Farm.Daemon.Tests.Web;

[TestClass]
public sealed class ConsoleHostTests() : LoggedTempDirectoryTest("farmd-console-")
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ConsolePort_OneNode_ServesMetricsAndHealthOverHttp1And2ButNoGrpc()
    {
        var (node, port) = await StartN1Async(withModule: false);
        await using var _ = node;
        X509Certificate2? seen = null;
        using var client = Client(c => seen = c);
        string console = $"https://127.0.0.1:{port + 1}";

        using var h1 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, console + "/metrics") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, TestContext.CancellationToken);
        using var h2 = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, console + "/healthz") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, TestContext.CancellationToken);
        using var grpcOnConsole = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, console + "/farm.v1.Admin/GetStatus") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, TestContext.CancellationToken);
        using var plain = new HttpClient();
        using var metricsOnGrpc = await plain.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/metrics") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, TestContext.CancellationToken);

        Assert.AreEqual(HttpStatusCode.OK, h1.StatusCode);
        Assert.AreEqual(HttpVersion.Version11, h1.Version);
        string metrics = await h1.Content.ReadAsStringAsync(TestContext.CancellationToken);
        StringAssert.Contains(metrics, "# TYPE farm_node_state gauge");
        StringAssert.Contains(metrics, "farm_node_state{node=\"n1\",state=\"up\"} 1");
        StringAssert.Contains(metrics, "process_cpu_seconds_total");
        Assert.AreEqual(HttpStatusCode.OK, h2.StatusCode);
        Assert.AreEqual(HttpVersion.Version20, h2.Version);
        Assert.AreEqual(HttpStatusCode.NotFound, grpcOnConsole.StatusCode, "the gRPC services are not on the console port");
        Assert.AreEqual(HttpStatusCode.NotFound, metricsOnGrpc.StatusCode, "the console is not on the gRPC port");
        Assert.IsNotNull(seen);
        CollectionAssert.Contains(Farm.Protocol.Tls.ClusterTls.NamesOf(seen).ToList(), "n1");
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task Ready_ModuleServedThenDrained_200Then503AndUnknown404()
    {
        var ct = TestContext.CancellationToken;
        await using var served = await ServeAsync(withModule: true);
        var (node, port, client, console) = served;

        async Task<HttpStatusCode> ReadyAsync(string name)
        {
            using var answer = await client.GetAsync(console + "/ready/" + name, ct);
            return answer.StatusCode;
        }

        await Poll.UntilAsync(() => ReadyAsync("web"), s => s == HttpStatusCode.OK, "n1 serving web once alone in its view", TimeSpan.FromSeconds(30), ct);
        Assert.AreEqual(HttpStatusCode.NotFound, await ReadyAsync("nope"));

        Assert.IsTrue(node.Node.Drain.Drain());
        await Poll.UntilAsync(() => ReadyAsync("web"), s => s == HttpStatusCode.ServiceUnavailable, "503 once drained", TimeSpan.FromSeconds(10), ct);
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task WebConsole_PageAssetsAndEvents_ServedFromFarmdWithTheLiveBucketTable()
    {
        var ct = TestContext.CancellationToken;
        await using var served = await ServeAsync(withModule: true);
        var (node, port, client, console) = served;

        string page = await client.GetStringAsync(console + "/", ct);
        using var script = await client.GetAsync(console + "/console/console.js", ct);
        using var style = await client.GetAsync(console + "/console/console.css", ct);
        using var missing = await client.GetAsync(console + "/console/other.js", ct);
        using var consoleOnGrpc = await new HttpClient().SendAsync(
            new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }, ct);

        StringAssert.Contains(page, "<script src=\"/console/console.js\"");
        Assert.DoesNotContain("http", page.Replace("http-equiv", "", StringComparison.Ordinal), "no asset from another origin");
        Assert.AreEqual("text/javascript; charset=utf-8", script.Content.Headers.ContentType?.ToString());
        StringAssert.Contains(string.Join(";", script.Headers.GetValues("Content-Security-Policy")), "default-src 'none'");
        Assert.AreEqual(HttpStatusCode.OK, style.StatusCode);
        Assert.AreEqual(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.AreEqual(HttpStatusCode.NotFound, consoleOnGrpc.StatusCode);

        // Events: the status as farmctl status --json writes it, and the owner of each bucket: n1, alone in its view, owns all 256
        // from the view that follows its announcement of the module (the first view admits it with no module ready, so no
        // bucket has an owner yet: the stream sends that one too).
        using var events = await client.GetAsync(console + "/console/events", HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.AreEqual("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(ct));
        JsonElement document;
        do
        {
            string? line;
            while ((line = await reader.ReadLineAsync(ct)) is not null && !line.StartsWith("data: ", StringComparison.Ordinal))
            {
            }

            Assert.IsNotNull(line, "the event stream ended");
            document = JsonDocument.Parse(line["data: ".Length..]).RootElement;
        }
        while (document.GetProperty("status").GetProperty("epoch").GetInt64() == 0 || !AnyBucketOwned(document));

        var nodes = document.GetProperty("status").GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()).ToList();
        CollectionAssert.AreEqual(TestClusterFiles.Nodes, nodes);
        var table = document.GetProperty("tables").EnumerateArray().Single();
        Assert.AreEqual("web", table.GetProperty("module").GetString());
        var owners = table.GetProperty("owners").EnumerateArray().Select(o => o.GetInt32()).ToList();
        Assert.HasCount(256, owners);
        Assert.IsTrue(owners.All(o => o == 0), "n1 (index 0) owns every bucket");
        Assert.AreEqual("UP", document.GetProperty("status").GetProperty("module_states")[0].GetProperty("state").GetString());
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task WebConsoleEvents_MoreStreamsThanTheLimit_RefusedUntilOneCloses()
    {
        var ct = TestContext.CancellationToken;
        var (node, port) = await StartN1Async(withModule: false);
        await using var _ = node;
        string events = $"https://127.0.0.1:{port + 1}/console/events";
        var clients = new List<HttpClient>();
        var open = new List<HttpResponseMessage>();
        try
        {
            async Task<HttpResponseMessage> OpenAsync()
            {
                var client = Client(_ => { });
                clients.Add(client);
                return await client.SendAsync(
                    new HttpRequestMessage(HttpMethod.Get, events) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
                    HttpCompletionOption.ResponseHeadersRead,
                    ct);
            }

            for (int i = 0; i < Farm.WebConsole.WebConsoleEndpoints.MaxEventStreams; i++)
            {
                open.Add(await OpenAsync());
                Assert.AreEqual(HttpStatusCode.OK, open[^1].StatusCode, $"stream {i + 1}");
            }

            using var refused = await OpenAsync();
            open[0].Dispose();
            clients[0].Dispose();
            var again = await Poll.UntilAsync(OpenAsync, r => r.StatusCode == HttpStatusCode.OK, "a stream once one closed", TimeSpan.FromSeconds(10), ct);
            open.Add(again);

            Assert.AreEqual(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        finally
        {
            open.ForEach(r => r.Dispose());
            clients.ForEach(c => c.Dispose());
        }
    }

    [TestMethod]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Certificate_SecondStart_KeepsTheSelfSignedCertificateInTheStateFolderPrivate()
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port);
        string first;
        await using (var node = await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs))
        {
            first = await ThumbprintAsync(port + 1);
        }

        await using var again = await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs);
        string second = await ThumbprintAsync(port + 1);

        string file = Path.Combine(Dir, "n1-state", ConsoleCertificate.FileName);
        Assert.AreEqual(first, second);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        using var kept = X509CertificateLoader.LoadPkcs12FromFile(file, null);
        Assert.AreEqual(first, kept.Thumbprint);
    }

    /// <summary>Starts node n1 of the loopback test cluster in this process, with module web (256 buckets) or none.</summary>
    /// <summary>n1 started and a client of its console port (<paramref name="withModule"/>: module web), disposed together.</summary>
    private async Task<Served> ServeAsync(bool withModule)
    {
        var (node, port) = await StartN1Async(withModule);
        return new Served(node, port, Client(_ => { }), $"https://127.0.0.1:{port + 1}");
    }

    private sealed record Served(InProcessNode Node, int GrpcPort, HttpClient Client, string Console) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Node.DisposeAsync();
        }
    }

    private async Task<(InProcessNode Node, int GrpcPort)> StartN1Async(bool withModule)
    {
        int port = TestClusterFiles.FreePort();
        string clusterFile = TestClusterFiles.Write(Dir, "cluster.yaml", port);
        List<Farm.Core.Config.ModuleConfig> modules = withModule ? [TestClusterFiles.WriteModule(Path.Combine(Dir, "modules"), "web", buckets: 256)] : [];
        return (await InProcessNode.StartAsync(clusterFile, "n1", Dir, Logs, modules), port);
    }

    private async Task<string> ThumbprintAsync(int consolePort)
    {
        X509Certificate2? seen = null;
        using var client = Client(c => seen = c);
        using var answer = await client.GetAsync($"https://127.0.0.1:{consolePort}/healthz", TestContext.CancellationToken);
        Assert.AreEqual(HttpStatusCode.OK, answer.StatusCode);
        return seen!.Thumbprint;
    }

    /// <summary>A client that trusts a certificate naming n1 (the node's self-signed one) and hands it to <paramref name="seen"/>.</summary>
    private static HttpClient Client(Action<X509Certificate2> seen) => new(new SocketsHttpHandler
    {
        SslOptions =
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is null)
                {
                    return false;
                }

                var received = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                seen(received);
                return Farm.Protocol.Tls.ClusterTls.NamesOf(received).Contains("n1");
            },
        },
    });

    private static bool AnyBucketOwned(JsonElement document) =>
        document.TryGetProperty("tables", out var tables)
        && tables.EnumerateArray().Any(t => t.GetProperty("owners").EnumerateArray().Any(o => o.GetInt32() >= 0));
}
