using Farm.Protocol.Security;
using Microsoft.Playwright;

namespace Farm.EndToEnd.Tests.Console;

/// <summary>
/// The web console in a real browser, as an operator would use it: Playwright drives Debian's chromium, started inside
/// node0's network namespace (a wrapper runs it under <c>ip netns exec</c>; Playwright talks to it over a pipe), against
/// three real farmd with a users file. A wrong password is refused; the operator logs in, sees the three nodes and the
/// bucket map, clicks drain on node1 and sees it draining, and after a kill sees the survivors owning every bucket and
/// the failover in the timeline; a viewer sees no action button and a drain posted from their page is refused (403).
/// Screenshots go to the test results.
/// </summary>
[TestClass]
public sealed class ConsoleBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string OperatorPassword = "olivia-operates-1";
    private const string ViewerPassword = "victor-views-1";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private FarmFixture? farm;
    private string? wrapper;

    /// <summary>Set by MSTest.</summary>
    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public async Task InitializeAsync()
    {
        await Requirements.NamespacesAsync(needNft: true);
        await Requirements.ToolsAsync("chromium");
    }

    [TestCleanup]
    public async Task CleanupAsync()
    {
        if (farm is not null)
        {
            if (TestContext.CurrentTestOutcome != UnitTestOutcome.Passed)
            {
                TestContext.WriteLine(farm.Outputs());
            }

            await farm.DisposeAsync();
        }

        if (wrapper is not null)
        {
            File.Delete(wrapper);
        }
    }

    [TestMethod]
    [Timeout(240_000, CooperativeCancellation = true)]
    public async Task Console_DrainAndKill_PageFollowsTheFarm()
    {
        var ct = TestContext.CancellationToken;
        farm = await RebalanceScenario.StartAsync(running: 3, TimeSpan.FromSeconds(1), ct, [
            ConsoleUserFile.Create("olivia", ConsoleRole.Operator, OperatorPassword),
            ConsoleUserFile.Create("victor", ConsoleRole.Viewer, ViewerPassword),
        ]);
        await farm.WaitAcceptorsAsync(new Dictionary<int, int> { [0] = 1, [1] = 1, [2] = 1 }, Settle, ct);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = InNamespace(farm.Topology.Nodes[0].Namespace.Name),
            Headless = true,
        });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true });
        var page = await context.NewPageAsync();
        var url = string.Create(CultureInfo.InvariantCulture, $"https://{FarmTopology.NodeAddress4(0)}:{farm.Cluster.ConsolePort}/");
        await page.GotoAsync(url);

        // The page needs a login: a wrong password is refused, the right one opens the console.
        await LogInAsync(page, "olivia", "not-the-password");
        Assert.AreEqual("wrong user name or password", (await page.Locator("#message").InnerTextAsync()).Trim());
        await LogInAsync(page, "olivia", OperatorPassword);
        await Expect(page, "#who", "olivia (operator)", ct);

        // Live, the four configured nodes listed with three up (node3 is not started), and one map whose legend splits
        // the table between the three.
        await Expect(page, "#connection", "live", ct);
        await PollPageAsync(page, async () => await page.Locator("#nodes tbody tr").CountAsync() == RebalanceScenario.NodeCount && await UpCountAsync(page) == 3, "four nodes listed, three up", ct);
        var legend = await PollLegendAsync(page, l => l.Count == 3, "three owners in the map", ct);
        Assert.AreEqual(RebalanceScenario.Buckets, legend.Owners.Values.Sum(), legend.ToString());
        await ScreenshotAsync(page, "console-3-nodes.png");

        // The module's log tail on this node: what farmctl logs shows, e.g. its start.
        await Poll.UntilAsync(() => page.Locator("#modules pre.log").First.InnerTextAsync(), t => t.Contains("start_both", StringComparison.Ordinal), "web's log tail showing its start", Poll.DefaultTimeout, ct);

        // The operator clicks drain on node1: the page shows the node draining or drained, and its buckets leave it.
        await page.Locator($"button[data-action=drain][data-node={FarmFixture.NodeName(1)}]").ClickAsync();
        await PollPageAsync(page, async () => (await page.Locator("#outcome").InnerTextAsync()).StartsWith($"{FarmFixture.NodeName(1)}: draining", StringComparison.Ordinal), "the drain's outcome shown", ct);
        await PollPageAsync(page, async () => (await NodeRowTextAsync(page, 1)).Contains("drain", StringComparison.Ordinal), "node1 shown draining", ct);
        await PollLegendAsync(page, l => !l.ContainsKey(FarmFixture.NodeName(1)), "node1 owning no bucket after its drain", ct);

        // Kill node2: the map shows node0 owning every bucket, the timeline the failover with its duration.
        var killedAt = Stopwatch.StartNew();
        farm.Daemon(2).Kill();
        await farm.ForgetAsync(2, "killed");
        var after = await PollLegendAsync(page, l => l.Count == 1 && l.GetValueOrDefault(FarmFixture.NodeName(0)) == RebalanceScenario.Buckets, "node0 owning every bucket", ct);
        TestContext.WriteLine($"map showed the survivor owning every bucket {killedAt.ElapsedMilliseconds} ms after the kill (detection timeout {farm.Cluster.Heartbeat.DetectionTimeout.TotalMilliseconds} ms)");
        Assert.AreEqual(RebalanceScenario.Buckets, after.Owners.Values.Sum(), after.ToString());
        await PollPageAsync(page, async () => (await page.Locator("#timeline").InnerTextAsync()).Contains($"{FarmFixture.NodeName(2)} left the view (failover:", StringComparison.Ordinal), "the failover in the timeline", ct);
        var timeline = await page.Locator("#timeline").InnerTextAsync();
        TestContext.WriteLine(timeline);
        Assert.Contains($"{FarmFixture.NodeName(2)}: up → down", timeline);
        await ScreenshotAsync(page, "console-after-kill.png");

        // A viewer, in a browser context of their own: the farm without a single action button, and a drain posted from
        // their page (with their session's antiforgery token) refused.
        await using var viewerContext = await browser.NewContextAsync(new BrowserNewContextOptions { IgnoreHTTPSErrors = true });
        var viewer = await viewerContext.NewPageAsync();
        await viewer.GotoAsync(url);
        await LogInAsync(viewer, "victor", ViewerPassword);
        await Expect(viewer, "#who", "victor (viewer)", ct);
        await Expect(viewer, "#connection", "live", ct);
        await PollPageAsync(viewer, async () => await viewer.Locator("#nodes tbody tr").CountAsync() == RebalanceScenario.NodeCount, "four nodes listed for the viewer", ct);
        Assert.AreEqual(0, await viewer.Locator("button[data-action]").CountAsync(), "a viewer sees no action");
        int forged = await viewer.EvaluateAsync<int>(
            "async node => { const s = await (await fetch('/console/session')).json(); "
            + "const r = await fetch('/console/actions/drain', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Farm-Csrf': s.csrf }, body: 'node=' + node }); return r.status; }",
            FarmFixture.NodeName(0));
        Assert.AreEqual(403, forged);
        await ScreenshotAsync(viewer, "console-viewer.png");
        var status = await farm.DrainAsync(0, DrainAction.Query, via: 0, ct);
        Assert.AreEqual(DrainState.None, status.State, "node0 not drained by the viewer's post");
    }

    /// <summary>Fills and sends the login form (the page is on it); the caller waits for what the answer shows.</summary>
    private static async Task LogInAsync(IPage page, string user, string password)
    {
        await page.Locator("#user").FillAsync(user);
        await page.Locator("#password").FillAsync(password);
        await page.Locator("#submit").ClickAsync();
    }

    /// <summary>A script that starts chromium inside the namespace (the browser process only; Playwright stays outside).</summary>
    private string InNamespace(string ns)
    {
        wrapper = Path.Combine(Path.GetTempPath(), $"farm-chromium-{Environment.ProcessId}-{ns}.sh");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec ip netns exec {ns} {Chromium} \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return wrapper;
    }

    private static async Task<int> UpCountAsync(IPage page) =>
        await page.Locator("#nodes tbody tr td:nth-child(2) .badge.up").CountAsync();

    private static Task<string> NodeRowTextAsync(IPage page, int index) =>
        page.Locator("#nodes tbody tr").Nth(index).InnerTextAsync();

    /// <summary>The map's legend: owner name → buckets ("node0: 86").</summary>
    private static async Task<Dictionary<string, int>> LegendAsync(IPage page)
    {
        var legend = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string item in await page.Locator(".table .legend > span").AllInnerTextsAsync())
        {
            int colon = item.LastIndexOf(':');
            legend[item[..colon].Trim()] = int.Parse(item[(colon + 1)..].Trim(), CultureInfo.InvariantCulture);
        }

        return legend;
    }

    private static async Task<Legend> PollLegendAsync(IPage page, Func<IReadOnlyDictionary<string, int>, bool> done, string what, CancellationToken ct) =>
        await Poll.UntilAsync(async () => new Legend(await LegendAsync(page)), l => done(l.Owners), what, Poll.DefaultTimeout, ct);

    private static Task<bool> PollPageAsync(IPage page, Func<Task<bool>> condition, string what, CancellationToken ct) =>
        Poll.UntilAsync(condition, ok => ok, what, Poll.DefaultTimeout, ct);

    private static Task<string> Expect(IPage page, string selector, string text, CancellationToken ct) =>
        Poll.UntilAsync(async () => (await page.Locator(selector).InnerTextAsync()).Trim(), t => t == text, $"{selector} reading '{text}'", Poll.DefaultTimeout, ct);

    /// <summary>The map's legend, printable in a timeout message.</summary>
    private sealed record Legend(IReadOnlyDictionary<string, int> Owners)
    {
        public override string ToString() => string.Join(", ", Owners.Select(o => $"{o.Key}: {o.Value}"));
    }

    private async Task ScreenshotAsync(IPage page, string name)
    {
        string path = Path.Combine(TestContext.TestResultsDirectory ?? Path.GetTempPath(), name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddResultFile(path);
    }
}
