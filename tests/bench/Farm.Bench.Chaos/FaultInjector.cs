namespace Farm.Bench.Chaos;

/// <summary>
/// Puts a <see cref="Fault"/> in place and takes it away again. Network faults are nft rules in the node namespaces
/// (<see cref="FaultRules"/>, applied through the sampler's in-process contexts), so a node's rules are the union of the
/// partition and the LAN loss in force; the rest are signals to farmd, the bridge-side veth, the fixture's app, and the
/// flag files the module's custom checker reads.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class FaultInjector(FarmFixture farm, KernelBucketSampler sampler, Random random)
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120); // a farmd start on a saturated machine took over 60 s
    private readonly HashSet<IPAddress>[] blocked = [.. Enumerable.Range(0, farm.NodeCount).Select(_ => new HashSet<IPAddress>())];
    private List<IPNetwork> lossy = [];

    public Task StartAsync(Fault fault, CancellationToken cancellationToken) => SetAsync(fault, active: true, cancellationToken);

    public Task EndAsync(Fault fault, CancellationToken cancellationToken) => SetAsync(fault, active: false, cancellationToken);

    /// <summary>Removes every rule (the end of the run, whatever was in force).</summary>
    public void ClearRules()
    {
        UnblockAll();
        lossy = [];
        ApplyRules();
    }

    /// <summary>Puts the fault in place (<paramref name="active"/>) or takes it away: each kind's two halves side by side.</summary>
    private async Task SetAsync(Fault fault, bool active, CancellationToken cancellationToken)
    {
        int node = fault.Nodes.FirstOrDefault();
        switch (fault.Kind)
        {
            case FaultKind.Kill9 or FaultKind.Restart when !active:
                farm.StartDaemon(node);
                await farm.Daemon(node).WaitForReadyAsync(ReadyTimeout, cancellationToken);
                break;
            case FaultKind.Kill9:
                farm.Daemon(node).Kill();
                await farm.Daemon(node).WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                await farm.ForgetAsync(node, "killed by the soak");
                break;
            case FaultKind.Restart:
                await farm.Daemon(node).TerminateAsync(cancellationToken);
                await farm.Daemon(node).WaitForExitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                await farm.ForgetAsync(node, "stopped by the soak");
                break;
            case FaultKind.Stop:
                await (active ? farm.Daemon(node).PauseAsync(cancellationToken) : farm.Daemon(node).ResumeAsync(cancellationToken));
                break;
            case FaultKind.LinkDown:
                await SetLinkAsync(node, up: !active, cancellationToken);
                break;
            case FaultKind.Partition when active:
                foreach (int n in Enumerable.Range(0, farm.NodeCount))
                {
                    var others = fault.Nodes.Contains(n) ? Enumerable.Range(0, farm.NodeCount).Except(fault.Nodes) : fault.Nodes;
                    blocked[n].UnionWith(others.SelectMany(o => farm.Cluster.Nodes[o].Addresses));
                }

                ApplyRules();
                break;
            case FaultKind.Partition:
                UnblockAll();
                ApplyRules();
                break;
            case FaultKind.LanLoss:
                lossy = active ? [.. farm.Cluster.Nodes.Select(n => new IPNetwork(n.Addresses[fault.Lan], 32))] : [];
                ApplyRules();
                break;
            case FaultKind.AppCrash:
                await (active ? farm.StopAppAsync(node) : farm.StartAppAsync(node));
                break;
            case FaultKind.HungScript when active:
                await File.WriteAllTextAsync(Flag(node, "hang"), "hang\n", cancellationToken);
                break;
            case FaultKind.HungScript:
                File.Delete(Flag(node, "hang"));
                break;
            case FaultKind.FlappingChecker when active:
                fault.FlapStop = new CancellationTokenSource();
                fault.Flapper = FlapAsync(node, new Random(random.Next()), fault.FlapStop.Token); // its own Random: the loop runs beside the scheduler
                break;
            case FaultKind.FlappingChecker:
                await fault.FlapStop!.CancelAsync();
                await fault.Flapper!;
                fault.FlapStop.Dispose();
                File.Delete(Flag(node, "fail"));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault.Kind, "unknown fault");
        }
    }

    private void UnblockAll()
    {
        foreach (var set in blocked)
        {
            set.Clear();
        }
    }

    private void ApplyRules()
    {
        for (int n = 0; n < farm.NodeCount; n++)
        {
            sampler.Run(n, new FaultRules { Blocked = blocked[n], LossySources = lossy, LossPercent = 20 }.Script());
        }
    }

    private async Task SetLinkAsync(int node, bool up, CancellationToken cancellationToken) =>
        await farm.Topology.Bridge.IpAsync(["link", "set", "dev", string.Create(CultureInfo.InvariantCulture, $"n{node}"), up ? "up" : "down"], cancellationToken);

    private string Flag(int node, string name) => Path.Combine(ChaosScenario.FlagDirectory(farm, node), name);

    private async Task FlapAsync(int node, Random flaps, CancellationToken cancellationToken)
    {
        string flag = Flag(node, "fail");
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await File.WriteAllTextAsync(flag, "fail\n", CancellationToken.None);
                await Task.Delay(TimeSpan.FromMilliseconds(flaps.Next(150, 600)), TimeProvider.System, cancellationToken);
                File.Delete(flag);
                await Task.Delay(TimeSpan.FromMilliseconds(flaps.Next(150, 600)), TimeProvider.System, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
