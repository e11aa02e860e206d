using Farm.Core.Config;
using Farm.Core.Hashing;
using Farm.Protocol.V1;
using Farm.Testing.Topology;
using Farm.Testing.Waiting;

namespace Farm.Testing.Farmd;

/// <summary>
/// The one farm fixture of the end-to-end tests and the benchmarks: N real farmd processes, each in a node namespace of a
/// <see cref="FarmTopology"/>, with the cluster and module files under a temporary <see cref="Root"/> and, when asked, an
/// app (<see cref="NameServer"/>) in every node namespace. <see cref="FarmFixtureOptions"/> says what the scenario needs;
/// the fixture starts, restarts, forgets and waits for daemons, reads their status and kernel tables, and cleans
/// everything up (also after a failed start).
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class FarmFixture : IAsyncDisposable
{
    private readonly FarmdGroup daemons;
    private readonly NameServer?[] servers;
    private readonly List<BucketHasher> hashers;

    private FarmFixture(FarmFixtureOptions options, FarmTopology topology, string root, ClusterConfig cluster, IReadOnlyList<string> baselines)
    {
        Options = options;
        Topology = topology;
        Root = root;
        Cluster = cluster;
        Baselines = baselines;
        daemons = new FarmdGroup(topology.Nodes.Count);
        servers = new NameServer?[topology.Nodes.Count];
        hashers = [.. options.Modules.Select(m => new BucketHasher(m.Buckets, m.Seed))];
    }

    public FarmFixtureOptions Options { get; }

    public FarmTopology Topology { get; }

    /// <summary>The temporary folder of the cluster file, the shared <c>modules/</c> and one folder per node.</summary>
    public string Root { get; }

    /// <summary>The cluster file's content (<see cref="SetWeightAsync"/> replaces it).</summary>
    public ClusterConfig Cluster { get; private set; }

    /// <summary>The first module of <see cref="FarmFixtureOptions.Modules"/>.</summary>
    public ModuleConfig Module => Options.Modules[0];

    /// <summary>The bucket hasher of <see cref="Module"/>.</summary>
    public BucketHasher Hasher => hashers[0];

    /// <summary>Per node, <see cref="NamespaceSnapshot"/> of its namespace before farmd ever ran there (when asked for).</summary>
    public IReadOnlyList<string> Baselines { get; }

    public IReadOnlyList<TopologyHost> Nodes => Topology.Nodes;

    public int NodeCount => Topology.Nodes.Count;

    public TopologyHost Client => Topology.Clients[0];

    /// <summary>Each node's app, null where none runs.</summary>
    public IReadOnlyList<NameServer?> Servers => servers;

    public TimeSpan Interval => Cluster.Heartbeat.Interval;

    public TimeSpan Lease => Cluster.Heartbeat.Lease;

    public string ClusterFile => Path.Combine(Root, "cluster.yaml");

    /// <summary>The prefix length of the second heartbeat LAN (198.19.0.0/16).</summary>
    public const int SecondLanPrefixLength = 16;

    public static string NodeName(int index) => FarmdGroup.NodeName(index);

    /// <summary>Node <paramref name="index"/>'s address on the second heartbeat LAN (<see cref="FarmFixtureOptions.SecondLan"/>): 198.19.0.(1+index).</summary>
    public static IPAddress SecondLanAddress(int index) => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"198.19.0.{1 + index}"));

    /// <summary>The daemon of node <paramref name="index"/> (running or exited, until forgotten).</summary>
    public FarmdProcess Daemon(int index) => daemons[index];

    public bool IsRunning(int index) => daemons.IsRunning(index);

    /// <summary>Node <paramref name="index"/>'s folder: admin socket, state and, with per-node modules, its modules and logs.</summary>
    public string NodeDirectory(int index) => Path.Combine(Root, NodeName(index));

    public string StateDirectory(int index) => Path.Combine(NodeDirectory(index), "state");

    /// <summary>Builds the topology, the files and the apps, starts the first <see cref="FarmFixtureOptions.Running"/> daemons and waits as the options say.</summary>
    public static async Task<FarmFixture> StartAsync(FarmFixtureOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var topology = await FarmTopology.CreateAsync(options.Topology, cancellationToken: cancellationToken);
        FarmFixture? farm = null;
        try
        {
            if (options.Witness is { } witness)
            {
                var client0 = topology.Clients[0];
                await client0.Namespace.AddAddressAsync(client0.InterfaceName, witness, FarmTopology.PrefixLength4, cancellationToken);
            }

            if (options.SecondLan)
            {
                for (int i = 0; i < topology.Nodes.Count; i++)
                {
                    var node = topology.Nodes[i];
                    await node.Namespace.AddAddressAsync(node.InterfaceName, SecondLanAddress(i), SecondLanPrefixLength, cancellationToken);
                }
            }

            var baselines = new List<string>();
            if (options.TakeBaselines)
            {
                foreach (var node in topology.Nodes)
                {
                    baselines.Add(await NamespaceSnapshot.TakeAsync(node.Namespace, node.InterfaceName, cancellationToken));
                }
            }

            string root = Directory.CreateTempSubdirectory(options.Name + "-").FullName;
            var cluster = new ClusterConfig
            {
                Name = options.Name,
                Key = options.Key,
                Heartbeat = options.Heartbeat,
                SplitBrain = options.SplitBrain,
                Lans = options.SecondLan ? ["primary", "secondary"] : [ClusterConfig.DefaultLanName],
                Nodes =
                [
                    .. Enumerable.Range(0, topology.Nodes.Count).Select(i =>
                    {
                        var node = new NodeConfig
                        {
                            Name = NodeName(i),
                            Addresses = options.SecondLan ? [FarmTopology.NodeAddress4(i), SecondLanAddress(i)] : [FarmTopology.NodeAddress4(i)],
                        };
                        return options.Priority is { } priority ? node with { Priority = priority(i) } : node;
                    }),
                ],
            };
            if (options.ConsoleUsers.Count > 0)
            {
                cluster = cluster with { ConsoleUsers = Path.Combine(root, "console-users") };
                Farm.Protocol.Security.ConsoleUserFile.Write(cluster.ConsoleUsers, options.ConsoleUsers);
            }

            farm = new FarmFixture(options, topology, root, cluster, baselines);
            FarmConfigFiles.WriteCluster(cluster, farm.ClusterFile);
            foreach (var module in options.Modules)
            {
                FarmConfigFiles.WriteModule(module, Path.Combine(root, "modules"));
            }

            for (int i = 0; i < farm.NodeCount; i++)
            {
                options.WriteNodeModules?.Invoke(root, i);
                if (!options.AppFollowsDaemon)
                {
                    await farm.StartAppAsync(i);
                }
            }

            int running = options.Running ?? farm.NodeCount;
            for (int i = 0; i < running; i++)
            {
                await farm.StartNodeAsync(i);
            }

            for (int i = 0; i < running; i++)
            {
                await farm.Daemon(i).WaitForReadyAsync(options.ReadyTimeout, cancellationToken);
            }

            if (options.Settle is { } settle)
            {
                await settle(farm, cancellationToken);
            }

            return farm;
        }
        catch
        {
            if (farm is not null)
            {
                await farm.DisposeAsync();
            }
            else
            {
                await topology.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// Starts farmd on node <paramref name="index"/> (returns at once; see <see cref="FarmdProcess.WaitForReadyAsync"/>), with
    /// <paramref name="modulesDirectory"/> instead of the node's usual modules folder when given (a node whose module
    /// files differ for one run).
    /// </summary>
    /// <exception cref="InvalidOperationException">The node runs farmd already.</exception>
    public FarmdProcess StartDaemon(int index, string? modulesDirectory = null)
    {
        if (daemons.IsRunning(index))
        {
            throw new InvalidOperationException($"{NodeName(index)} already runs farmd.");
        }

        var options = FarmdOptions.UnderRoot(Root, NodeName(index), Nodes[index].Namespace) with { FarmdPath = Options.FarmdPath };
        if (Options.WriteNodeModules is not null)
        {
            options = options with
            {
                ModulesDirectory = Path.Combine(NodeDirectory(index), "modules"),
                LogDirectory = Path.Combine(NodeDirectory(index), "log"),
            };
        }

        return daemons.Start(index, modulesDirectory is null ? options : options with { ModulesDirectory = modulesDirectory });
    }

    /// <summary>Starts node <paramref name="index"/>'s app (unless it runs) and its farmd.</summary>
    public async Task<FarmdProcess> StartNodeAsync(int index)
    {
        await StartAppAsync(index);
        return StartDaemon(index);
    }

    /// <summary>Ends node <paramref name="index"/>'s app: its sockets close, as the kernel does for a killed process.</summary>
    public async Task StopAppAsync(int index)
    {
        if (servers[index] is { } server)
        {
            servers[index] = null;
            await server.DisposeAsync();
        }
    }

    /// <summary>Keeps the output of node <paramref name="index"/>'s daemon, which is gone (<paramref name="how"/>), and forgets it.</summary>
    public Task ForgetAsync(int index, string how = "ended") => daemons.ForgetAsync(index, how);

    /// <summary>Restarts (after forgetting) every daemon that is not running; returns whether any was.</summary>
    public async Task<bool> RestartStoppedAsync(CancellationToken cancellationToken)
    {
        var restarted = new List<int>();
        for (int i = 0; i < NodeCount; i++)
        {
            if (!daemons.IsRunning(i))
            {
                await ForgetAsync(i);
                await StartNodeAsync(i);
                restarted.Add(i);
            }
        }

        foreach (int i in restarted)
        {
            await Daemon(i).WaitForReadyAsync(Options.ReadyTimeout, cancellationToken);
        }

        return restarted.Count > 0;
    }

    /// <summary>The status of each node of <paramref name="indexes"/>; null and why when one does not run or answer.</summary>
    public Task<(IReadOnlyList<NodeStatusReport>? Reports, string Problem)> TryGetStatusesAsync(IEnumerable<int> indexes, CancellationToken cancellationToken) =>
        daemons.TryGetStatusesAsync(indexes, cancellationToken);

    /// <summary>
    /// Waits until exactly <paramref name="members"/> form the installed view on each of them with one epoch, and their
    /// kernels hold a lease and settled sets of <paramref name="module"/> (nothing incoming or draining) that split all
    /// buckets without overlap or gap; with <paramref name="matchStatus"/>, also in the counts their status reports.
    /// Returns the owner (node index) per bucket: the live table, read from the kernels.
    /// </summary>
    public Task<int[]> WaitSettledAsync(
        IReadOnlyList<int> members, string module, TimeSpan timeout, TimeSpan interval, CancellationToken cancellationToken, bool matchStatus = false) =>
        WaitAsync(ct => TryReadSettledAsync(members, module, matchStatus, ct), $"settled on {string.Join(", ", members.Select(NodeName))}", timeout, interval, cancellationToken);

    /// <summary>
    /// Which node's kernel takes new flows of each bucket of <paramref name="module"/> (owned, claimed or incoming), read
    /// from every running node; null and why when some bucket has no such node or two.
    /// </summary>
    public async Task<(string[]? Acceptors, string Problem)> TryReadAcceptorsAsync(string module, CancellationToken cancellationToken)
    {
        var acceptors = new string?[ModuleConfig(module).Buckets];
        for (int i = 0; i < NodeCount; i++)
        {
            if (!daemons.IsRunning(i))
            {
                continue;
            }

            var table = await FilterTableState.ReadAsync(Nodes[i].Namespace, module, cancellationToken);
            if (table is null || !table.HasLease)
            {
                return (null, $"{NodeName(i)}: {table?.ToString() ?? "no table"}");
            }

            foreach (int b in table.AcceptingNewFlows)
            {
                if (acceptors[b] is { } other)
                {
                    return (null, $"bucket {b} takes new flows on {other} and {NodeName(i)}");
                }

                acceptors[b] = NodeName(i);
            }
        }

        int gaps = acceptors.Count(a => a is null);
        return gaps > 0 ? (null, $"{gaps} buckets take new flows nowhere") : ([.. acceptors.Select(a => a!)], "ok");
    }

    /// <summary>
    /// Waits until the running nodes' kernels split new flows of <paramref name="module"/> in the shares of
    /// <paramref name="weights"/> (node index → relative weight; 0 for a drained node that still runs), ±1 bucket.
    /// Returns the acceptor per bucket.
    /// </summary>
    public Task<string[]> WaitAcceptorsAsync(string module, IReadOnlyDictionary<int, int> weights, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int total = weights.Values.Sum();
        int buckets = ModuleConfig(module).Buckets;
        return WaitAsync(
            async ct =>
            {
                var (acceptors, problem) = await TryReadAcceptorsAsync(module, ct);
                if (acceptors is null)
                {
                    return (null, problem);
                }

                var wrong = weights.Where(w =>
                {
                    int count = acceptors.Count(a => a == NodeName(w.Key));
                    double share = (double)buckets * w.Value / total;
                    return count < Math.Floor(share) || count > Math.Ceiling(share);
                }).Select(w => $"{NodeName(w.Key)} takes {acceptors.Count(a => a == NodeName(w.Key))} buckets").ToList();
                return wrong.Count == 0 ? (acceptors, "split") : (null, string.Join(", ", wrong));
            },
            $"splitting new flows as {string.Join(", ", weights.Select(w => $"{NodeName(w.Key)}={w.Value}"))}",
            timeout,
            Poll.DefaultInterval,
            cancellationToken);
    }

    /// <summary>The kernel filter state of <paramref name="module"/> on every node (null where the table does not exist).</summary>
    public Task<FilterTableState?[]> ReadTablesAsync(string module, CancellationToken cancellationToken) =>
        Task.WhenAll(Nodes.Select(n => FilterTableState.ReadAsync(n.Namespace, module, cancellationToken)));

    /// <summary>The bucket of a client of <see cref="Module"/> under <paramref name="affinity"/>.</summary>
    public int BucketOf(IPEndPoint source, Affinity affinity)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Hasher.BucketOf(affinity == Affinity.ClientIpPort ? new ClientKey(source.Address, (ushort)source.Port) : new ClientKey(source.Address), affinity);
    }

    /// <summary>Drains or resumes node <paramref name="index"/> through node <paramref name="via"/>'s admin socket (as farmctl does).</summary>
    public async Task<DrainAnswer> DrainAsync(int index, DrainAction action, int via, CancellationToken cancellationToken)
    {
        using var admin = daemons[via].CreateAdminClient();
        return await admin.DrainAsync(NodeName(index), action, cancellationToken);
    }

    /// <summary>Writes the cluster file with node <paramref name="index"/>'s weight and a higher version, and applies it live through node <paramref name="via"/>.</summary>
    public async Task<ConfigApplyAnswer> SetWeightAsync(int index, int weight, int via, CancellationToken cancellationToken)
    {
        Cluster = Cluster with
        {
            Version = Cluster.Version + 1,
            Nodes = [.. Cluster.Nodes.Select((n, i) => i == index ? n with { Weight = weight } : n)],
        };
        string path = Path.Combine(Root, "cluster-next.yaml");
        FarmConfigFiles.WriteCluster(Cluster, path);
        using var admin = daemons[via].CreateAdminClient();
        return await admin.ApplyConfigAsync(await File.ReadAllTextAsync(path, cancellationToken), path, cancellationToken);
    }

    /// <summary>The hand-over progress (buckets draining, incoming) node <paramref name="index"/> reports about itself for <paramref name="module"/>.</summary>
    public async Task<(int Draining, int Incoming)> HandoverOfAsync(int index, string module, CancellationToken cancellationToken)
    {
        using var admin = daemons[index].CreateAdminClient();
        var report = await admin.GetStatusAsync(cancellationToken);
        var self = report.Nodes.Single(n => n.IsSelf).Buckets.Single(b => b.Module == module);
        return (self.Draining, self.Incoming);
    }

    /// <summary>What every daemon printed, the ones gone first: all of it, or the last <paramref name="tailChars"/> characters of each.</summary>
    public string Outputs(int? tailChars = null) => daemons.Outputs(tailChars);

    /// <summary>Writes what every daemon printed, the ones gone first, to <paramref name="writer"/>.</summary>
    public void WriteOutputs(TextWriter writer) => daemons.WriteOutputs(writer);

    /// <summary>Kills every farmd, runs <see cref="FarmFixtureOptions.AfterDaemonsKilled"/>, ends the apps, deletes the namespaces and <see cref="Root"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await daemons.DisposeAsync(); // SIGKILL also ends a stopped process
        Options.AfterDaemonsKilled?.Invoke(this);
        for (int i = 0; i < servers.Length; i++)
        {
            await StopAppAsync(i);
        }

        await Topology.DisposeAsync();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>Starts node <paramref name="index"/>'s app unless it runs (after <see cref="StopAppAsync"/>: an application restarted).</summary>
    public async Task StartAppAsync(int index)
    {
        if ((Options.AppTcpPorts.Count > 0 || Options.AppUdpEndpoints.Count > 0) && servers[index] is null)
        {
            servers[index] = await NameServer.StartAsync(Nodes[index].Namespace, NodeName(index), Options.AppTcpPorts, Options.AppUdpEndpoints);
        }
    }

    private ModuleConfig ModuleConfig(string module) => Options.Modules.Single(m => m.Name == module);

    /// <summary>Polls <paramref name="read"/> until it gives a value; a timeout says what was last wrong and what every daemon printed.</summary>
    private async Task<T> WaitAsync<T>(Func<CancellationToken, Task<(T? Value, string Problem)>> read, string what, TimeSpan timeout, TimeSpan interval, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var reading = await Poll.UntilAsync(
                async () => new Reading<T>(await read(cancellationToken)), r => r.Value is not null, what, timeout, cancellationToken, interval);
            return reading.Value!;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"The farm: {e.Message}\n{Outputs(FarmdProcess.FailureOutputTail)}", e);
        }
    }

    private async Task<(int[]? Owners, string Problem)> TryReadSettledAsync(IReadOnlyList<int> members, string module, bool matchStatus, CancellationToken cancellationToken)
    {
        string[] names = [.. members.Select(NodeName).Order(StringComparer.Ordinal)];
        var (reports, problem) = await daemons.TryGetStatusesAsync(members, cancellationToken);
        if (reports is null)
        {
            return (null, problem);
        }

        foreach (var r in reports)
        {
            string[] inView = [.. r.Nodes.Where(n => n.InView).Select(n => n.Name).Order(StringComparer.Ordinal)];
            if (!inView.SequenceEqual(names))
            {
                return (null, $"{r.Node} has view {r.InstalledEpoch} with [{string.Join(", ", inView)}]");
            }
        }

        if (reports.Select(r => r.InstalledEpoch).Distinct().Count() != 1)
        {
            return (null, "epochs differ: " + string.Join(", ", reports.Select(r => $"{r.Node} {r.InstalledEpoch}")));
        }

        var reported = members.Zip(reports).ToDictionary(
            m => m.First, m => m.Second.Nodes.Single(n => n.IsSelf).Buckets.SingleOrDefault(b => b.Module == module)?.Buckets ?? -1);
        return await FarmdGroup.TrySplitBucketsAsync(
            members.Select(i => (i, Nodes[i].Namespace)),
            module,
            ModuleConfig(module).Buckets,
            cancellationToken,
            matchStatus ? (i, table) => reported[i] != table.Owned.Count ? $"{NodeName(i)} status says {reported[i]} buckets, its kernel owns {table.Owned.Count}" : null : null);
    }

    private readonly record struct Reading<T>((T? Value, string Problem) Read)
        where T : class
    {
        public T? Value => Read.Value;

        public override string ToString() => Read.Problem;
    }
}
