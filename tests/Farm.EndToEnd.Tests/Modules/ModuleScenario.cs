using System.Text.RegularExpressions;
using Farm.Protocol;

namespace Farm.EndToEnd.Tests.Modules;

/// <summary>
/// The scenario of <see cref="ModuleFarmTests"/> on <see cref="FarmFixture"/>: three farmd, each running two modules
/// built from the shipped example docs/examples/modules/demo-web (a python3 web server): <c>web</c> (balance, tcp 8080)
/// with a process checker (restart), a tcp checker (wait) and a custom checker driven by a flag file (restart), and
/// <c>db</c> (single, failback off, tcp 8081) whose start_prim takes a second. Every node has its own module folders
/// and run directory under the fixture's root, as separate machines would. Built once per test class.
/// </summary>
internal static class ModuleScenario
{
    public const string Web = "web";
    public const string Db = "db";
    public const int WebPort = 8080;
    public const int DbPort = 8081;
    public const int NodeCount = 3;
    public const int Buckets = 256;

    public static readonly IPAddress WebVip = IPAddress.Parse("198.18.0.110");
    public static readonly IPAddress DbVip = IPAddress.Parse("198.18.0.111");

    /// <summary>How long db's start_prim takes (the demo's PROMOTE_SECONDS).</summary>
    public static readonly TimeSpan PromoteTime = TimeSpan.FromSeconds(1);

    public static string NodeName(int index) => FarmFixture.NodeName(index);

    /// <summary>Priority of a node in the cluster file: node0 highest.</summary>
    public static int PriorityOf(int index) => NodeCount - index;

    public static Task<FarmFixture> StartAsync(CancellationToken cancellationToken)
    {
        var topology = new TopologyOptions { Nodes = NodeCount, Clients = 1, AddressesPerClient = 40 };
        return FarmFixture.StartAsync(
            new FarmFixtureOptions
            {
                Name = "farm-modules",
                Key = "farm-modules-e2e-key-0123456789abcdef",
                Topology = topology,
                Priority = PriorityOf,
                WriteNodeModules = (root, i) => WriteModules(root, i, topology.InterfaceName),
                Settle = (farm, ct) => farm.WaitHealthyAsync(TimeSpan.FromSeconds(60), ct),
                AfterDaemonsKilled = farm =>
                {
                    // farmd was killed: the applications it started are left (as after a crash). End them by their pid files.
                    for (int i = 0; i < NodeCount; i++)
                    {
                        foreach (string module in new[] { Web, Db })
                        {
                            farm.KillApplication(i, module);
                        }
                    }
                },
            },
            cancellationToken);
    }

    /// <summary>The run directory of a module on a node (pid file, server.log, events.log, test flags).</summary>
    public static string RunDirectory(this FarmFixture farm, int index, string module) => Path.Combine(farm.Root, NodeName(index), "run", module);

    /// <summary>The module's report from the node's own status.</summary>
    public static async Task<ModuleReport> ModuleAsync(this FarmFixture farm, int index, string module, CancellationToken cancellationToken)
    {
        using var admin = farm.Daemon(index).CreateAdminClient();
        var status = await admin.GetStatusAsync(cancellationToken);
        return status.Modules.Single(m => m.Module == module);
    }

    /// <summary>Polls the node's module until <paramref name="predicate"/> holds (a farmd that does not answer yet counts as not yet); returns that report.</summary>
    public static async Task<ModuleReport> WaitModuleAsync(
        this FarmFixture farm, int index, string module, Func<ModuleReport, bool> predicate, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        try
        {
            var report = await Poll.UntilAsync(
                async () =>
                {
                    try
                    {
                        return await farm.ModuleAsync(index, module, cancellationToken);
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        return null; // farmd starting
                    }
                },
                m => m is not null && predicate(m),
                what,
                timeout,
                cancellationToken);
            return report!;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{module} on node{index}: {e.Message}\n{farm.Outputs()}", e);
        }
    }

    /// <summary>Start, stop or restart a module on one node through its admin socket; waits up to <paramref name="wait"/> for it to settle.</summary>
    public static async Task<ModuleControlResult> ControlAsync(this FarmFixture farm, int index, string module, ModuleAction action, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var admin = farm.Daemon(index).CreateAdminClient();
        var answer = await admin.ControlModuleAsync(
            new ModuleControlQuery { Module = module, Action = action, RequestedBy = "e2e", WaitMs = (long)wait.TotalMilliseconds }, wait + TimeSpan.FromSeconds(10), cancellationToken);
        return answer.Results.Single();
    }

    /// <summary>The module's log lines kept by farmd on the node.</summary>
    public static async Task<IReadOnlyList<string>> LogsAsync(this FarmFixture farm, int index, string module, CancellationToken cancellationToken)
    {
        using var admin = farm.Daemon(index).CreateAdminClient();
        var lines = new List<string>();
        await foreach (var batch in admin.ModuleLogsAsync(new ModuleLogsQuery { Module = module }, cancellationToken))
        {
            lines.AddRange(batch.Lines.Select(l => l.Text));
        }

        return lines;
    }

    /// <summary>
    /// Waits until every node runs farmd with both modules UP/Ready, the web module's kernel sets split all buckets
    /// among <paramref name="webMembers"/> (default: all) without overlap, gap or hand-over, and db has exactly one primary.
    /// </summary>
    public static async Task<string[]> WaitHealthyAsync(this FarmFixture farm, TimeSpan timeout, CancellationToken cancellationToken, int[]? webMembers = null)
    {
        webMembers ??= [0, 1, 2];
        try
        {
            var (owners, _) = await Poll.UntilAsync(
                () => TryReadHealthyAsync(farm, webMembers, cancellationToken), r => r.Owners is not null, "healthy", timeout, cancellationToken, TimeSpan.FromMilliseconds(100));
            return owners!;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"The module farm: {e.Message}\n{farm.Outputs()}", e);
        }
    }

    /// <summary>Brings every node back to normal: farmd running, flags removed, both modules started.</summary>
    public static async Task EnsureHealthyAsync(this FarmFixture farm, CancellationToken cancellationToken)
    {
        for (int i = 0; i < NodeCount; i++)
        {
            File.Delete(Path.Combine(farm.RunDirectory(i, Web), "fail-check"));
            File.Delete(Path.Combine(farm.RunDirectory(i, Web), "hang-stop"));
        }

        await farm.RestartStoppedAsync(cancellationToken);
        for (int i = 0; i < NodeCount; i++)
        {
            foreach (string module in new[] { Web, Db })
            {
                var m = await farm.ModuleAsync(i, module, cancellationToken);
                if (m.State == ModuleRunState.Stop && m.SubState != ModuleSubState.Transient)
                {
                    await farm.ControlAsync(i, module, ModuleAction.Start, TimeSpan.Zero, cancellationToken);
                }
            }
        }

        await farm.WaitHealthyAsync(TimeSpan.FromSeconds(60), cancellationToken);
    }

    /// <summary>SIGKILLs the module's application on the node (by its pid file); returns the pid, or null when none ran.</summary>
    public static int? KillApplication(this FarmFixture farm, int index, string module)
    {
        string pidFile = Path.Combine(farm.RunDirectory(index, module), "server.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out int pid))
        {
            return null;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(5000);
            return pid;
        }
        catch (ArgumentException)
        {
            return null; // not running
        }
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Farm.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("Farm.sln not found above " + AppContext.BaseDirectory);
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            string target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target, overwrite: true);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }

        foreach (string dir in Directory.GetDirectories(from))
        {
            CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    private static void WriteExecutable(string path, string text)
    {
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
    }

    /// <summary>Each node's module folders: the example's files, env.local, the test's hooks and farm.yaml.</summary>
    private static void WriteModules(string root, int index, string interfaceName)
    {
        string example = Path.Combine(RepositoryRoot(), "docs", "examples", "modules", "demo-web");
        string runBase = Path.Combine(root, NodeName(index), "run");
        foreach (var (module, port) in new[] { (Web, WebPort), (Db, DbPort) })
        {
            string dir = Path.Combine(root, NodeName(index), "modules", module);
            CopyTree(example, dir);
            File.Delete(Path.Combine(dir, "farm.yaml"));
            File.WriteAllText(Path.Combine(dir, "env.local"), $"PORT={port}\nRUN_BASE='{runBase}'\nPROMOTE_SECONDS={PromoteTime.TotalSeconds.ToString(CultureInfo.InvariantCulture)}\n");

            // Test hooks, beside the example's scripts: a stop_both that hangs while a flag exists (then runs the
            // example's), and a custom checker that fails while a flag exists.
            File.Move(Path.Combine(dir, "bin", "stop_both"), Path.Combine(dir, "bin", "stop_both.demo"));
            WriteExecutable(Path.Combine(dir, "bin", "stop_both"), """
                #!/bin/bash
                . "$(dirname "$0")/env.sh"
                if [ -f "$RUN/hang-stop" ]; then
                    echo "hanging (test flag $RUN/hang-stop, force=$FARM_FORCE)"
                    exec -a "farmtest-hang-$FARM_NODE" sleep 1000
                fi
                exec "$(dirname "$0")/stop_both.demo" "$@"
                """);
            WriteExecutable(Path.Combine(dir, "checkers", "flag"), """
                #!/bin/bash
                . "$(dirname "$0")/../bin/env.sh"
                if [ -f "$RUN/fail-check" ]; then echo "flag $RUN/fail-check is set"; exit 1; fi
                echo "no flag"
                """);

            // Regex.Escape leaves no single quote; YAML single quotes keep the backslashes.
            string regex = Regex.Escape(Path.Combine(dir, "app", "server.py"));
            var yaml = new List<string>
            {
                "module:",
                $"  name: {module}",
                $"  vips: [{(module == Db ? DbVip : WebVip)}]",
                $"  interface: {interfaceName}",
                module == Db ? "  mode: single" : "  mode: balance",
                module == Db ? "  failback: false" : "",
                $"  buckets: {Buckets}",
                "  rules:",
                $"    - {{ protocol: tcp, ports: {port}, affinity: client_ip }}",
                "  timeouts: { start: 3s, stop: 2s, stop_force: 1s, drain: 1s }",
                "  scripts: { prestart: { timeout: 20s }, start_both: { timeout: 20s }, start_prim: { timeout: 20s } }",
                "  recovery: { maxloop: 3, loop_interval: 10m }",
                "  checkers:",
                $"    - {{ name: app, type: process, regex: '{regex}', min: 1, interval: 1s, timeout: 900ms, action: restart }}",
            };
            if (module == Web)
            {
                yaml.Add($"    - {{ name: port, type: tcp, address: 127.0.0.1, port: {port}, interval: 1s, timeout: 900ms, action: wait }}");
                yaml.Add("    - { name: flag, type: custom, script: checkers/flag, interval: 1s, timeout: 900ms, action: restart }");
            }

            string text = string.Join("\n", yaml.Where(l => l.Length > 0)) + "\n";
            string file = Path.Combine(dir, "farm.yaml");
            File.WriteAllText(file, text);
            var parsed = ConfigParser.ParseModule(text, file);
            if (parsed.Value is null)
            {
                throw new InvalidOperationException($"The test's {file} is invalid:\n{string.Join("\n", parsed.Errors)}\n{text}");
            }
        }
    }

    private static async Task<(string[]? Owners, string Last)> TryReadHealthyAsync(FarmFixture farm, int[] webMembers, CancellationToken cancellationToken)
    {
        var (reports, problem) = await farm.TryGetStatusesAsync(Enumerable.Range(0, NodeCount), cancellationToken);
        if (reports is null)
        {
            return (null, problem);
        }

        foreach (var r in reports)
        {
            foreach (var m in r.Modules)
            {
                bool shouldServe = m.Module != Web || webMembers.Contains(int.Parse(r.Node[4..], CultureInfo.InvariantCulture));
                if (shouldServe && !(m.State == ModuleRunState.Up && m.SubState == ModuleSubState.Ready))
                {
                    return (null, $"{r.Node}: {m.Module} is {m.State}/{m.SubState} ({m.Reason}) [{m.Step}]");
                }
            }
        }

        if (reports.Select(r => r.InstalledEpoch).Distinct().Count() != 1)
        {
            return (null, "epochs differ: " + string.Join(", ", reports.Select(r => $"{r.Node} {r.InstalledEpoch}")));
        }

        int primaries = reports.Count(r => r.Modules.Single(m => m.Module == Db).Primary);
        if (primaries != 1)
        {
            return (null, $"{primaries} primaries of db");
        }

        var (owners, last) = await FarmdGroup.TrySplitBucketsAsync(
            Enumerable.Range(0, NodeCount).Select(i => (i, farm.Nodes[i].Namespace)),
            Web,
            Buckets,
            cancellationToken,
            (i, table) => !webMembers.Contains(i) && table.Owned.Count > 0 ? $"node{i} still owns {table.Owned.Count} web buckets" : null);
        return owners is null ? (null, last) : ([.. owners.Select(NodeName)], "healthy");
    }
}
