using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Farm.Installer.Tests.TestSupport;
using Farm.Testing.Containers;
using Farm.Testing.Topology;

namespace Farm.Installer.Tests;

/// <summary>
/// The .deb of this checkout on three Debian 12 machines booted with real systemd (systemd-nspawn), one per node
/// namespace of a test LAN: installed with dpkg, configured, enabled; then a farmd crash, a frozen heartbeat thread, a
/// graceful stop and the package's removal, each checked against what docs/operations.md promises.
/// </summary>
[TestClass]
public sealed class SystemdFarmTests
{
    private const string Vip = "198.18.100.3"; // the demo-web example module's
    private const int Port = 8080;
    private static readonly string[] Nodes = ["node0", "node1", "node2"];

    private static readonly TimeProvider Time = TimeProvider.System;

    private readonly List<NspawnContainer> containers = [];
    private readonly Dictionary<string, NspawnContainer> byName = new(StringComparer.Ordinal);

    public TestContext TestContext { get; set; } = null!;

    private CancellationToken Ct => TestContext.CancellationToken;

    [TestMethod]
    [Timeout(15 * 60 * 1000, CooperativeCancellation = true)]
    public async Task Package_ThreeSystemdNodes_ServesSurvivesCrashAndStallStopsGracefullyAndRemovesCleanly()
    {
        await Requirements.SystemdContainersAsync();
        long clock = Time.GetTimestamp();
        string rootfs = await Builds.RootFileSystemAsync();
        Log($"root file system {rootfs} ({Time.GetElapsedTime(clock).TotalSeconds:F0} s)");
        string package = await Builds.PackageAsync("deb", TimeSpan.FromMinutes(10));
        Log($"package built ({Time.GetElapsedTime(clock).TotalSeconds:F0} s)");
        string config = Directory.CreateTempSubdirectory("farm-systemd-config-").FullName;
        await File.WriteAllTextAsync(Path.Combine(config, "cluster.yaml"), ClusterFile(), Ct);

        await using var topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 3, Clients = 1, AddressesPerClient = 30, IPv6 = false }, cancellationToken: Ct);
        var client = topology.Clients[0];
        var sources = client.Addresses4.ToList();
        try
        {
            var booted = await Task.WhenAll(topology.Nodes.Select(n => NspawnContainer.BootAsync(
                rootfs, n.Name, n.Namespace, [(package, "/mnt/farm-package"), (config, "/mnt/farm-config")], TimeSpan.FromSeconds(90), cancellationToken: Ct)));
            containers.AddRange(booted);
            foreach (var (container, name) in booted.Zip(Nodes))
            {
                byName[name] = container;
            }

            Log($"3 containers booted ({Time.GetElapsedTime(clock).TotalSeconds:F0} s)");

            // 1. Install: the package starts nothing while /etc/farm/cluster.yaml does not exist.
            var sysctlsBefore = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
            await Task.WhenAll(Nodes.Select(async name =>
            {
                var c = byName[name];
                sysctlsBefore[name] = await Sysctls(c);
                string installed = await c.ExecAsync("dpkg -i /mnt/farm-package/farm_*_amd64.deb 2>&1", TimeSpan.FromMinutes(3), Ct);
                StringAssert.Contains(installed, "farm: not started. Configure it:");
            }));
            var n0 = byName["node0"];
            Assert.AreEqual("inactive", await Systemctl(n0, "is-active farmd"), "installing starts no unconfigured farm");
            Assert.AreEqual("disabled", await Systemctl(n0, "is-enabled farmd"));
            Assert.AreEqual("600 root", (await n0.ExecAsync("stat -c '%a %U' /etc/farm/cluster.yaml.example", cancellationToken: Ct)).Trim());
            Assert.AreEqual("/usr/bin/farmctl", (await n0.ExecAsync("command -v farmctl", cancellationToken: Ct)).Trim());
            Assert.IsTrue((await n0.ExecAsync("test -f /usr/share/bash-completion/completions/farmctl && farmctl '[suggest:10]' 'farmctl st'", cancellationToken: Ct)).Contains("status", StringComparison.Ordinal));
            Log($"installed ({Time.GetElapsedTime(clock).TotalSeconds:F0} s)");

            // 2. Configure (cluster file, the example module from the package's docs) and enable: no option names the node,
            //    farmd finds it by the host name. node2 gets the test-only hook that can freeze its heartbeat thread.
            await byName["node2"].ExecAsync(
                "mkdir -p /etc/systemd/system/farmd.service.d && printf '[Service]\\nEnvironment=FARMD_TEST_HOOKS=1\\n' >/etc/systemd/system/farmd.service.d/test-hooks.conf",
                cancellationToken: Ct);
            await Task.WhenAll(containers.Select(c => c.ExecAsync(
                "install -m 0600 /mnt/farm-config/cluster.yaml /etc/farm/cluster.yaml && cp -r /usr/share/doc/farm/examples/modules/demo-web /etc/farm/modules/ " +
                "&& systemctl daemon-reload && systemctl enable --now --no-block farmd 2>&1",
                cancellationToken: Ct)));

            // READY only once the node is in an installed view with its data plane programmed: then STATUS shows the view.
            foreach (string name in Nodes)
            {
                var c = byName[name];
                await Until(async () => await Systemctl(c, "is-active farmd") == "active", $"{name}: farmd active (READY=1)", TimeSpan.FromSeconds(90));
                StringAssert.StartsWith(await StatusText(c), "view ", $"{name} told READY before it was in a view");
                StringAssert.Contains(await c.ExecAsync("journalctl -u farmd -o cat --no-pager", cancellationToken: Ct), "Ready: view ");
            }

            Log($"all READY ({Time.GetElapsedTime(clock).TotalSeconds:F0} s)");
            foreach (string name in Nodes)
            {
                await Until(async () => await StatusText(byName[name]) is var s && s.Contains(": node0 node1 node2;", StringComparison.Ordinal) && s.Contains("demo-web UP", StringComparison.Ordinal),
                    $"{name}: status shows the farm of three with demo-web UP", TimeSpan.FromSeconds(60));
            }

            // farmctl finds the local farmd without options.
            string status = await n0.ExecAsync("farmctl status", cancellationToken: Ct);
            foreach (string name in Nodes)
            {
                StringAssert.Contains(status, name, status);
            }

            // 3. Clients through the VIP: every one answered, all three nodes serve.
            var round = await UntilRound(a => a.All(x => x is not null) && a.Distinct().Count() == 3, "every client answered by one of three nodes", sources, client, TimeSpan.FromSeconds(30));
            Log($"farm serves: {Describe(round)} ({Time.GetElapsedTime(clock).TotalSeconds:F0} s)");

            // 4. farmd of node1 crashes (SIGKILL to farmd alone): the others take its clients, systemd restarts it, it
            //    rejoins; its application was not killed with it and the new farmd's start_both finds it.
            var n1 = byName["node1"];
            string appPid = (await n1.ExecAsync("cat /run/farm/demo-web/server.pid", cancellationToken: Ct)).Trim();
            string mainPid = await Systemctl(n1, "show -p MainPID --value farmd");
            var watch = ProbeContinuously(client, sources);
            await n1.ExecAsync("systemctl kill --kill-who=main -s KILL farmd", cancellationToken: Ct);
            long killed = Time.GetTimestamp();
            await Until(async () => await Systemctl(n1, "show -p NRestarts --value farmd") == "1" && await Systemctl(n1, "is-active farmd") == "active",
                "systemd restarted node1's farmd and it is READY again", TimeSpan.FromSeconds(60));
            Assert.AreNotEqual(mainPid, await Systemctl(n1, "show -p MainPID --value farmd"));
            await Until(async () => (await StatusText(n1)).Contains(": node0 node1 node2;", StringComparison.Ordinal) && (await StatusText(n1)).Contains("demo-web UP", StringComparison.Ordinal),
                "node1 rejoined with demo-web UP", TimeSpan.FromSeconds(60));
            await UntilRound(a => a.All(x => x is not null) && a.Contains("node1"), "node1 serves clients again", sources, client, TimeSpan.FromSeconds(30));
            var rounds = await watch.StopAsync();
            Log($"node1 crash: {rounds.Count} client rounds, rejoined after {Time.GetElapsedTime(killed).TotalSeconds:F1} s");
            Assert.IsTrue(
                rounds.Any(r => r.Answers.All(x => x is not null and not "node1")),
                "while node1's farmd was down, node0 and node2 answered every client: " + string.Join("; ", rounds.Select(r => $"{r.At.TotalSeconds:F1}s {Describe(r.Answers)}")));
            Assert.AreEqual(appPid, (await n1.ExecAsync("cat /run/farm/demo-web/server.pid", cancellationToken: Ct)).Trim(), "the application kept running");
            await n1.ExecAsync($"kill -0 {appPid}", cancellationToken: Ct);
            StringAssert.Contains(await n1.ExecAsync("journalctl -u farmd -o cat --no-pager", cancellationToken: Ct), $"already running (pid {appPid})");

            // 5. node2's heartbeat thread freezes (test hook): the watchdog is no longer fed, systemd restarts farmd.
            var n2 = byName["node2"];
            await n2.ExecAsync("systemctl kill --kill-who=main -s USR1 farmd", cancellationToken: Ct);
            long frozen = Time.GetTimestamp();
            await Until(async () => await Systemctl(n2, "show -p NRestarts --value farmd") == "1" && await Systemctl(n2, "is-active farmd") == "active",
                "the watchdog got node2's farmd restarted", TimeSpan.FromSeconds(90));
            Log($"node2 heartbeat frozen -> restarted and READY after {Time.GetElapsedTime(frozen).TotalSeconds:F1} s");
            string n2Journal = await n2.ExecAsync("journalctl -u farmd -o cat --no-pager", cancellationToken: Ct);
            StringAssert.Contains(n2Journal, "Watchdog timeout");

            // Journal priorities: errors are found by -p err, information is not.
            string errors = await n2.ExecAsync("journalctl -u farmd -p err -o cat --no-pager", cancellationToken: Ct);
            StringAssert.Contains(errors, "Heartbeat thread made no tick");
            Assert.IsFalse(errors.Contains("farmd started", StringComparison.Ordinal), "information is not an error:\n" + errors);
            StringAssert.Contains(await n2.ExecAsync("journalctl -u farmd -p warning -o cat --no-pager", cancellationToken: Ct), "Test hooks are on");
            StringAssert.Contains(await n2.ExecAsync("journalctl -u farmd -p info -o cat --no-pager", cancellationToken: Ct), "farmd started: node node2");
            await Until(async () => (await StatusText(n2)).Contains(": node0 node1 node2;", StringComparison.Ordinal) && (await StatusText(n2)).Contains("demo-web UP", StringComparison.Ordinal),
                "node2 rejoined with demo-web UP", TimeSpan.FromSeconds(60));
            await UntilRound(a => a.All(x => x is not null) && a.Distinct().Count() == 3, "all three nodes serve again", sources, client, TimeSpan.FromSeconds(30));

            // 6. systemctl stop on node0 while clients keep asking: none goes unanswered; farmd closed the traffic and
            //    handed the buckets over before stop_both stopped the application (it found it running), left the farm,
            //    and left nothing in the kernel.
            string n0App = (await n0.ExecAsync("cat /run/farm/demo-web/server.pid", cancellationToken: Ct)).Trim();
            watch = ProbeContinuously(client, sources);
            long stopping = Time.GetTimestamp();
            await n0.ExecAsync("systemctl stop farmd", TimeSpan.FromMinutes(5), Ct);
            var stopTook = Time.GetElapsedTime(stopping);
            await Task.Delay(TimeSpan.FromSeconds(3), Time, Ct); // and the seconds after: the peers own node0's clients now
            rounds = await watch.StopAsync();
            Log($"node0 stop took {stopTook.TotalSeconds:F1} s; {rounds.Count} client rounds during it and the 3 s after");
            var unanswered = rounds.Where(r => r.Answers.Any(x => x is null)).ToList();
            Assert.AreEqual(0, unanswered.Count, "clients unanswered during the stop: " + string.Join("; ", unanswered.Select(r => $"{r.At.TotalSeconds:F1}s {Describe(r.Answers)}")));
            Assert.AreEqual("inactive", await Systemctl(n0, "is-active farmd"));
            string n0Journal = await n0.ExecAsync("journalctl -u farmd -o cat --no-pager", cancellationToken: Ct);
            StringAssert.Contains(n0Journal, $"stopped pid {n0App} (SIGTERM)", "stop_both found the application running and stopped it");
            StringAssert.Contains(n0Journal, "Left the farm");
            Assert.IsFalse((await n0.ExecUncheckedAsync($"kill -0 {n0App}", cancellationToken: Ct)).Succeeded, "the application stopped");
            await AssertNothingLeft(n0, sysctlsBefore["node0"]);

            // 7. dpkg -r on node1 while farmd runs: it stops (gracefully) and nothing is left; the configuration stays
            //    until purge.
            string n1App = (await n1.ExecAsync("cat /run/farm/demo-web/server.pid", cancellationToken: Ct)).Trim();
            await n1.ExecAsync("dpkg -r farm 2>&1", TimeSpan.FromMinutes(5), Ct);
            Assert.IsFalse((await n1.ExecUncheckedAsync("pgrep -x farmd", cancellationToken: Ct)).Succeeded, "farmd stopped");
            Assert.IsFalse((await n1.ExecUncheckedAsync($"kill -0 {n1App}", cancellationToken: Ct)).Succeeded, "its application stopped");
            Assert.IsFalse((await n1.ExecUncheckedAsync("test -e /lib/systemd/system/farmd.service", cancellationToken: Ct)).Succeeded, "the unit is gone");
            await AssertNothingLeft(n1, sysctlsBefore["node1"]);
            await n1.ExecAsync("test -f /etc/farm/cluster.yaml && test -d /etc/farm/modules/demo-web", cancellationToken: Ct);
            await n1.ExecAsync("dpkg --purge farm 2>&1", TimeSpan.FromMinutes(2), Ct);
            Assert.IsFalse((await n1.ExecUncheckedAsync("test -e /etc/farm", cancellationToken: Ct)).Succeeded, "purge removes /etc/farm");
            Log($"scenario done ({Time.GetElapsedTime(clock).TotalSeconds:F0} s)");
        }
        catch
        {
            foreach (var c in containers)
            {
                var journal = await c.ExecUncheckedAsync("journalctl -u farmd -o short-monotonic --no-pager | tail -n 150", cancellationToken: CancellationToken.None);
                TestContext.WriteLine($"--- {c.Machine}: journal of farmd ---\n{journal.StandardOutput}{journal.StandardError}");
            }

            throw;
        }
        finally
        {
            await Task.WhenAll(containers.Select(c => c.DisposeAsync().AsTask()));
            Directory.Delete(config, recursive: true);
            Directory.Delete(package, recursive: true);
        }
    }

    /// <summary>Heartbeat timings of the end-to-end tests (roomier than the defaults: these machines are shared).</summary>
    private static string ClusterFile() => """
        cluster:
          name: systemd-test
          key: "systemd-test-cluster-key-0123456789abcdef"
          grpc_port: 9400
          heartbeat:
            interval: 100ms
            detection_timeout: 1s
            lease: 600ms
          nodes:
            - name: node0
              addresses: [198.18.0.1]
            - name: node1
              addresses: [198.18.0.2]
            - name: node2
              addresses: [198.18.0.3]
        """;

    private static Task<string> Sysctls(NspawnContainer c) =>
        c.ExecAsync("sysctl -a 2>/dev/null | grep -E '\\.(arp_ignore|arp_announce) ' | sort");

    /// <summary>No farm_* nft table, no VIP on any interface, every ARP sysctl as before the install.</summary>
    private async Task AssertNothingLeft(NspawnContainer c, string sysctlsBefore)
    {
        Assert.IsFalse((await c.ExecAsync("nft list tables", cancellationToken: Ct)).Contains("farm_", StringComparison.Ordinal), $"{c}: an nft table is left");
        Assert.IsFalse((await c.ExecAsync("ip -o address show", cancellationToken: Ct)).Contains(Vip, StringComparison.Ordinal), $"{c}: the VIP is left");
        Assert.AreEqual(sysctlsBefore, await Sysctls(c), $"{c}: sysctls changed");
    }

    private async Task<string> Systemctl(NspawnContainer c, string arguments) =>
        (await c.ExecUncheckedAsync("systemctl " + arguments, cancellationToken: Ct)).StandardOutput.Trim();

    private Task<string> StatusText(NspawnContainer c) => Systemctl(c, "show -p StatusText --value farmd");

    private async Task Until(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        long clock = Time.GetTimestamp();
        while (!await condition())
        {
            if (Time.GetElapsedTime(clock) > timeout)
            {
                Assert.Fail($"Not within {timeout.TotalSeconds:F0} s: {what}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), Time, Ct);
        }
    }

    private async Task<string?[]> UntilRound(Func<string?[], bool> condition, string what, IReadOnlyList<IPAddress> sources, TopologyHost client, TimeSpan timeout)
    {
        long clock = Time.GetTimestamp();
        while (true)
        {
            var answers = await AskAll(client, sources, Ct);
            if (condition(answers))
            {
                return answers;
            }

            if (Time.GetElapsedTime(clock) > timeout)
            {
                Assert.Fail($"Not within {timeout.TotalSeconds:F0} s: {what}; last round: {Describe(answers)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), Time, Ct);
        }
    }

    private static Task<string?[]> AskAll(TopologyHost client, IReadOnlyList<IPAddress> sources, CancellationToken cancellationToken) =>
        Task.WhenAll(sources.Select(s => WebProbe.AskAsync(client.Namespace, s, new IPEndPoint(IPAddress.Parse(Vip), Port), TimeSpan.FromSeconds(3), cancellationToken)));

    /// <summary>Rounds of one request per source, back to back, until stopped: what clients saw meanwhile.</summary>
    private ContinuousProbe ProbeContinuously(TopologyHost client, IReadOnlyList<IPAddress> sources) => new(this, client, sources);

    private static string Describe(string?[] answers) =>
        string.Join(", ", answers.GroupBy(a => a ?? "none").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} {g.Count()}")));

    private void Log(string line)
    {
        TestContext.WriteLine(line);
        Console.WriteLine(line);
    }

    private sealed record ProbeRound(TimeSpan At, string?[] Answers);

    private sealed class ContinuousProbe
    {
        private readonly CancellationTokenSource stop;
        private readonly Task<List<ProbeRound>> loop;

        public ContinuousProbe(SystemdFarmTests test, TopologyHost client, IReadOnlyList<IPAddress> sources)
        {
            stop = CancellationTokenSource.CreateLinkedTokenSource(test.Ct);
            loop = RunAsync(client, sources, stop.Token);
        }

        public async Task<List<ProbeRound>> StopAsync()
        {
            await stop.CancelAsync();
            var rounds = await loop;
            stop.Dispose();
            return rounds;
        }

        private static async Task<List<ProbeRound>> RunAsync(TopologyHost client, IReadOnlyList<IPAddress> sources, CancellationToken cancellationToken)
        {
            var rounds = new List<ProbeRound>();
            long clock = Time.GetTimestamp();
            while (!cancellationToken.IsCancellationRequested)
            {
                // A round started is finished: a request cut short by the stop would count as unanswered.
                var at = Time.GetElapsedTime(clock);
                var answers = await AskAll(client, sources, CancellationToken.None);
                rounds.Add(new ProbeRound(at, answers));
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            return rounds;
        }
    }
}
