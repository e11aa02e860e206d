namespace Farm.Bench.Failover;

/// <summary>Fails a node of a <see cref="FarmFixture"/> three ways (kill -9, link down, SIGSTOP) and restores it.</summary>
[SupportedOSPlatform("linux")]
internal sealed class FailureInjector(FarmFixture farm) : IAsyncDisposable
{
    private LinkControl? links;

    /// <summary>SIGKILL to farmd, then the app dies too (its sockets close, as the kernel does for a killed process).</summary>
    public async Task KillNodeAsync(int index)
    {
        Signals.Send(farm.Daemon(index).Id, Signals.Kill);
        await farm.StopAppAsync(index);
    }

    /// <summary>After <see cref="KillNodeAsync"/> and once the process was reaped: keeps its output.</summary>
    public Task ForgetKilledAsync(int index) => farm.ForgetAsync(index, "killed");

    /// <summary>SIGSTOP (<paramref name="stop"/>) or SIGCONT to farmd of node <paramref name="index"/>; the app keeps running.</summary>
    public void SignalDaemon(int index, bool stop) => Signals.Send(farm.Daemon(index).Id, stop ? Signals.Stop : Signals.Continue);

    /// <summary>Sets the bridge-side end of node <paramref name="index"/>'s veth down or up (the node sees its carrier go).</summary>
    public Task SetLinkAsync(int index, bool up, CancellationToken cancellationToken)
    {
        links ??= LinkControl.Start(farm.Topology.Bridge);
        return links.SetAsync(string.Create(CultureInfo.InvariantCulture, $"n{index}"), up, cancellationToken);
    }

    /// <summary>Starts the link control ahead of a failure (so the failure does not wait for a process to start).</summary>
    public void PrepareLinkControl() => links ??= LinkControl.Start(farm.Topology.Bridge);

    public async ValueTask DisposeAsync()
    {
        if (links is not null)
        {
            await links.DisposeAsync();
        }
    }
}
