using System.Security.Cryptography;
using Farm.Core.Config;
using Farm.Protocol.V1;
using Farm.Testing.Farmd;
using Farm.Testing.Topology;

// The one-command demo (installer/demo.sh): a 3-node farm with the demo-web module, 200 clients, a node killed
// and restarted, all inside network namespaces that are deleted at the end (also on Ctrl-C).
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        farm-demo: three real farmd nodes serve the demo-web module on one VIP, inside network namespaces.
        Usage: farm-demo [--keep] [--clients N] [--module DIR]
          --keep        after the demo, keep the farm running until Ctrl-C and print commands to try
          --clients N   client source addresses (default 200)
          --module DIR  the module folder (default docs/examples/modules/demo-web of this repository)
        Needs root (namespaces, nftables). Uses only 198.18.0.0/15 inside namespaces it creates and deletes.
        """);
    return 0;
}

if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
{
    Console.Error.WriteLine("farm-demo: run as root on Linux (it creates network namespaces and nftables rules inside them).");
    return 1;
}

var culture = CultureInfo.InvariantCulture;
bool keep = args.Contains("--keep");
int clientCount = int.Parse(Option("--clients") ?? "200", culture);
string moduleSource = Option("--module") ?? FindModule();
var moduleConfig = ConfigParser.ParseModule(File.ReadAllText(Path.Combine(moduleSource, "farm.yaml")), Path.Combine(moduleSource, "farm.yaml")).Value
    ?? throw new InvalidOperationException($"{moduleSource}/farm.yaml does not check: run farmctl config check on it.");
var vip = new IPEndPoint(moduleConfig.Vips.First(v => v.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork), moduleConfig.Rules[0].FirstPort);

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var ct = cancel.Token;
var time = TimeProvider.System;
var clock = Stopwatch.StartNew();
var lastProgress = TimeSpan.Zero;
string work = Directory.CreateTempSubdirectory("farm-demo-").FullName;
FarmTopology? topology = null;
var nodes = new FarmdProcess?[3];
var options = new FarmdOptions[3];
try
{
    Step(1, $"network: a bridge, 3 node namespaces and 1 client namespace with {clientCount} source addresses (198.18.0.0/15)");
    topology = await FarmTopology.CreateAsync(new TopologyOptions { Nodes = 3, Clients = 1, AddressesPerClient = clientCount, IPv6 = false }, cancellationToken: ct);
    var client = topology.Clients[0];
    var sources = client.Addresses4;

    Step(2, "starting farmd on each node with the demo-web module (python3 web app on the VIP)");
    var cluster = new ClusterConfig
    {
        Name = "demo",
        Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)),
        Nodes = [.. Enumerable.Range(0, 3).Select(i => new NodeConfig { Name = $"n{i + 1}", Addresses = [FarmTopology.NodeAddress4(i)] })],
    };
    string clusterFile = FarmConfigFiles.WriteCluster(cluster, Path.Combine(work, "cluster.yaml"));
    for (int i = 0; i < 3; i++)
    {
        string name = $"n{i + 1}";
        string home = Path.Combine(work, name);
        string modules = Path.Combine(home, "modules");
        CopyDirectory(moduleSource, Path.Combine(modules, moduleConfig.Name));
        // The node namespaces share one file system: give each node's app its own run directory.
        File.WriteAllText(Path.Combine(modules, moduleConfig.Name, "env.local"), $"RUN_BASE={Path.Combine(home, "run")}\n");
        options[i] = new FarmdOptions
        {
            ClusterFile = clusterFile,
            Node = name,
            AdminSocket = Path.Combine(work, name + ".sock"),
            ModulesDirectory = modules,
            StateDirectory = Path.Combine(home, "state"),
            LogDirectory = Path.Combine(home, "log"),
            Namespace = topology.Nodes[i].Namespace,
        };
        nodes[i] = FarmdProcess.Start(options[i]);
    }

    await WaitForFarmAsync(n => true, "the farm forms and the module starts on every node", ct);
    Step(3, "the live status table (farmctl status)");
    await FarmctlAsync("status", "--socket", options[0].AdminSocket);

    Step(4, $"which node answers each of the {clientCount} clients (GET http://{vip}/node from each source address)");
    var before = await DistributionAsync(client.Namespace, sources, ct);

    string victim = "n2";
    var victimClients = sources.Where((_, i) => before[i] == victim).ToList();
    Step(5, $"kill -9 of farmd and its web app on {victim}: {victimClients.Count} clients lose their server");
    long killedAt = time.GetTimestamp();
    nodes[1]!.Kill();
    KillApp(Path.Combine(work, victim, "run", moduleConfig.Name, "server.pid"));
    var served = new double?[victimClients.Count];
    var probes = victimClients.Select(async (source, i) =>
    {
        while (!ct.IsCancellationRequested && time.GetElapsedTime(killedAt) < TimeSpan.FromSeconds(15))
        {
            string? answer = await WebProbe.AskAsync(client.Namespace, source, vip, TimeSpan.FromMilliseconds(100), ct);
            if (answer is not null && answer != victim)
            {
                served[i] = time.GetElapsedTime(killedAt).TotalMilliseconds;
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), time, ct);
        }
    }).ToList();
    var all = Task.WhenAll(probes);
    while (!all.IsCompleted)
    {
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromMilliseconds(250), time, ct));
        Progress($"served again: {served.Count(s => s is not null)}/{victimClients.Count} after {time.GetElapsedTime(killedAt).TotalSeconds:F2} s");
    }

    Progress(null);
    var times = served.Where(s => s is not null).Select(s => s!.Value).Order().ToList();
    if (times.Count == victimClients.Count && times.Count > 0)
    {
        Console.WriteLine($"      failover: every client of {victim} served again; first after {times[0]:F0} ms, median {times[times.Count / 2]:F0} ms, last {times[^1]:F0} ms");
        Console.WriteLine("      (each client retries every ~110 ms: a connection attempt that gets no answer is given up after 100 ms)");
        Console.WriteLine($"      ({cluster.Heartbeat.DetectionTimeout.TotalMilliseconds} ms detection timeout, {cluster.Heartbeat.Lease.TotalMilliseconds} ms kernel lease: {victim} stopped accepting before the others took over)");
    }
    else
    {
        Console.WriteLine($"      {victimClients.Count - times.Count} clients of {victim} were not served again within 15 s");
    }

    await WaitForFarmAsync(n => n.Name != victim, $"the survivors install a view without {victim}", ct, expectedInView: 2);
    await FarmctlAsync("status", "--socket", options[0].AdminSocket);
    await DistributionAsync(client.Namespace, sources, ct);

    Step(6, $"restarting farmd on {victim}: it cleans up what the killed run left and rejoins");
    nodes[1] = FarmdProcess.Start(options[1]);
    await WaitForFarmAsync(n => true, $"{victim} is back in the view with its share", ct);
    await FarmctlAsync("status", "--socket", options[0].AdminSocket);
    await DistributionAsync(client.Namespace, sources, ct);

    Console.WriteLine();
    Console.WriteLine($"Demo done in {clock.Elapsed.TotalSeconds:F0} s. Commands to try next" + (keep ? " (the farm stays up until Ctrl-C):" : " (run 'installer/demo.sh --keep' to keep the farm up):"));
    Console.WriteLine($"  farmctl status --socket {options[0].AdminSocket}                  # or --watch, --json");
    Console.WriteLine($"  farmctl who-owns {sources[0]} --socket {options[0].AdminSocket}");
    Console.WriteLine($"  ip netns exec {client.Namespace.Name} curl -s --interface {sources[0]} http://{vip}/node");
    Console.WriteLine($"  ip netns exec {topology.Nodes[0].Namespace.Name} nft list table inet farm_{moduleConfig.Name}");
    Console.WriteLine("  farmctl config check docs/examples/cluster.yaml docs/examples/modules/*/farm.yaml");
    if (keep)
    {
        Console.WriteLine("  (the farmctl commands above: dotnet src/Farm.Cli/bin/Release/net10.0/farmctl.dll ...)");
        await Task.Delay(Timeout.InfiniteTimeSpan, time, ct).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    return 0;
}
catch (OperationCanceledException) when (ct.IsCancellationRequested)
{
    Console.WriteLine("\ninterrupted: cleaning up");
    return 130;
}
finally
{
    Console.WriteLine("cleaning up: stopping farmd (it stops the app and restores each node), deleting the namespaces");
    foreach (var node in nodes.Where(n => n is not null && !n.HasExited))
    {
        try
        {
            await node!.TerminateAsync(CancellationToken.None);
            await node.WaitForExitAsync(TimeSpan.FromSeconds(15), CancellationToken.None);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            Console.WriteLine($"  {node}: {e.Message}");
        }
    }

    foreach (var node in nodes.Where(n => n is not null))
    {
        await node!.DisposeAsync();
    }

    if (topology is not null)
    {
        await topology.DisposeAsync(); // also kills anything left inside the namespaces
    }

    Directory.Delete(work, recursive: true);
}

// One progress line rewritten in place on a terminal; when redirected, a line at most every 2 s. Null ends it.
void Progress(string? text)
{
    if (!Console.IsOutputRedirected)
    {
        Console.Write(text is null ? "\r" + new string(' ', 100) + "\r" : $"\r      {text,-92}");
    }
    else if (text is not null && clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(2))
    {
        lastProgress = clock.Elapsed;
        Console.WriteLine("      " + text);
    }
}

void Step(int number, string what) => Console.WriteLine($"\n[{number}/6 {clock.Elapsed.TotalSeconds,5:F1} s] {what}");

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

async Task WaitForFarmAsync(Func<NodeStatus, bool> member, string what, CancellationToken token, int expectedInView = 3)
{
    long start = time.GetTimestamp();
    while (true)
    {
        token.ThrowIfCancellationRequested();
        var ready = 0;
        var notes = new List<string>();
        foreach (var node in nodes.Where(n => n is not null && !n.HasExited))
        {
            try
            {
                using var admin = node!.CreateAdminClient();
                var status = await admin.GetStatusAsync(token);
                var inView = status.Nodes.Where(n => n.InView && member(n)).ToList();
                foreach (var module in status.Modules.Where(m => !m.TrafficOpen))
                {
                    notes.Add($"{node.Node}: {module.Module} {module.State}/{module.SubState}{(module.Step.Length > 0 ? " running " + module.Step : "")}: {module.Reason}");
                }

                if (inView.Count == expectedInView && inView.All(n => n.Buckets.Any(b => b.Buckets > 0)))
                {
                    ready++;
                }
            }
            catch (Grpc.Core.RpcException)
            {
                // starting up
            }
        }

        if (ready == nodes.Count(n => n is not null && !n.HasExited) && ready >= expectedInView)
        {
            Progress(null);
            Console.WriteLine($"      {what}: done after {time.GetElapsedTime(start).TotalSeconds:F1} s");
            return;
        }

        var dead = nodes.FirstOrDefault(n => n is not null && n.HasExited && expectedInView == 3);
        if (dead is not null || time.GetElapsedTime(start) > TimeSpan.FromSeconds(60))
        {
            throw new InvalidOperationException($"{what}: not within 60 s. farmd output:\n" +
                string.Join("\n---\n", nodes.Where(n => n is not null).Select(n => n!.Node + ":\n" + string.Join('\n', n.Output.Split('\n').TakeLast(30)))));
        }

        Progress($"waiting: {what} ({time.GetElapsedTime(start).TotalSeconds:F1} s){(notes.Count > 0 ? "; " + string.Join("; ", notes) : "")}");
        await Task.Delay(TimeSpan.FromMilliseconds(200), time, token);
    }
}

async Task<string?[]> DistributionAsync(NetworkNamespace clientNamespace, IReadOnlyList<IPAddress> addresses, CancellationToken token)
{
    var answers = new string?[addresses.Count];
    foreach (var batch in Enumerable.Range(0, addresses.Count).Chunk(50))
    {
        await Task.WhenAll(batch.Select(async i => answers[i] = await WebProbe.AskAsync(clientNamespace, addresses[i], vip, TimeSpan.FromSeconds(2), token)));
    }

    foreach (var group in answers.GroupBy(a => a ?? "(no answer)").OrderBy(g => g.Key, StringComparer.Ordinal))
    {
        Console.WriteLine($"      {group.Key,-12} {group.Count(),4} clients  {new string('#', group.Count() / 2)}");
    }

    return answers;
}

async Task FarmctlAsync(params string[] arguments)
{
    var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "farmctl.dll"));
    foreach (string a in arguments)
    {
        info.ArgumentList.Add(a);
    }

    using var process = Process.Start(info)!;
    string output = await process.StandardOutput.ReadToEndAsync(ct) + await process.StandardError.ReadToEndAsync(ct);
    await process.WaitForExitAsync(ct);
    foreach (string line in output.TrimEnd().Split('\n'))
    {
        Console.WriteLine("      " + line);
    }
}

static void KillApp(string pidFile)
{
    if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
    {
        try
        {
            using var app = Process.GetProcessById(pid);
            app.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // already gone
        }
    }
}

static string FindModule()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "docs", "examples", "modules", "demo-web");
        if (File.Exists(Path.Combine(candidate, "farm.yaml")))
        {
            return candidate;
        }
    }

    throw new DirectoryNotFoundException("docs/examples/modules/demo-web not found above the program: pass --module DIR.");
}

static void CopyDirectory(string from, string to)
{
    Directory.CreateDirectory(to);
    foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
    {
        string target = Path.Combine(to, Path.GetRelativePath(from, file));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(file, target, overwrite: true);
        File.SetUnixFileMode(target, File.GetUnixFileMode(file));
    }
}
