using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Options;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Starts the data plane before Kestrel listens and the heartbeat thread once it does, tells the service manager, and on
/// stop leaves the farm gracefully (buckets move to the others first) before Kestrel closes; the data plane goes last.
/// </summary>
/// <remarks>
/// Under systemd (<see cref="SystemdLifetime"/>, registered by <see cref="ServiceHosting.AddServiceHosting"/>) the
/// lifetime sends READY=1 when the host has started, so <see cref="StartedAsync"/> returns only once the node serves: a
/// member of the installed view with its data plane programmed. Elsewhere (tests, a plain run, a supervisor that set
/// <c>$NOTIFY_SOCKET</c>) start returns at once and the reporter sends READY=1 itself when the node serves.
/// </remarks>
internal sealed partial class FarmdLifecycle(
    FarmNode node,
    TimeProvider timeProvider,
    ILogger<FarmdLifecycle> logger,
    IHostApplicationLifetime applicationLifetime,
    IHostLifetime hostLifetime,
    IOptions<HostOptions> hostOptions,
    ISystemdNotifier? notifier = null) : IHostedLifecycleService, IDisposable
{
    /// <summary>Room after the host's shutdown timeout for the last steps (Kestrel, data plane teardown) in the stop bound told to systemd.</summary>
    private static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(15);

    private readonly bool systemdSendsLifecycle = hostLifetime is SystemdLifetime;
    private ServiceManagerReporter? reporter;
    private HeartbeatFreezeHook? freezeHook;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Before any peer can reach us: crash leftovers removed, every module's filter installed fail-closed. Modules
        // are declared ready later, by their traffic gates, once they run (a module whose data plane failed never is).
        // A missing prerequisite (not root, no libnftables) throws: farmd exits 1 with the reason.
        if (node.DataPlane is { } dataPlane)
        {
            var running = dataPlane.Start();
            node.Drains?.Start();
            Log.DataPlaneStarted(logger, running.Count, node.Settings.Modules.Count);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var settings = node.Settings;
        AdminSocket.Restrict(settings.AdminSocket, settings.AdminGroupId);
        node.Witness?.Start();
        node.Datagrams?.Start(); // before the heartbeat thread: its first heartbeats may probe for datagrams
        node.Host.Start();
        node.ReloadSignal.Start();

        // Boot: each module runs prestart, start_both and its checkers, then opens its traffic gate (UP/Ready).
        node.Modules.Boot();
        Log.Started(logger, settings.Self.Name, settings.Incarnation, settings.Cluster.Name, node.Host.ConfigHash, settings.Cluster.Version, settings.Modules.Count, settings.AdminSocket);
        if (settings.Priority.Refusal is { } refusal)
        {
            Log.PriorityRefused(logger, refusal);
        }
        else if (settings.Priority.ChildAdjustment != 0)
        {
            Log.PriorityRaised(logger, settings.Priority.Nice, settings.Priority.ChildAdjustment);
        }
        if (node.Drain.Restored)
        {
            Log.StillDrained(logger, settings.Self.Name);
        }

        freezeHook = HeartbeatFreezeHook.InstallIfEnabled(node.Host, logger, Environment.GetEnvironmentVariable(HeartbeatFreezeHook.EnvironmentVariable));
        if (notifier is not { IsEnabled: true })
        {
            return;
        }

        var watchdog = ServiceManagerReporter.WatchdogOf(
            Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId);
        reporter = new ServiceManagerReporter(node, notifier, watchdog, timeProvider, logger);
        reporter.Start(notifyReady: !systemdSendsLifecycle);
        if (!systemdSendsLifecycle)
        {
            return;
        }

        // Hold the host's start until the node serves: the systemd lifetime sends READY=1 right after. A stop request
        // meanwhile (SIGTERM) ends the wait; the stop then runs as usual.
        Log.WaitingForView(logger);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, applicationLifetime.ApplicationStopping);
        try
        {
            await reporter.Ready.WaitAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Log.StoppedBeforeReady(logger);
        }
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await LeaveAsync(cancellationToken);
        }
        finally
        {
            // After the leave: the peers' heartbeat streams end here, or the server's graceful stop would wait for them.
            node.Membership.CloseStreams();
        }
    }

    private async Task LeaveAsync(CancellationToken cancellationToken)
    {
        // The systemd lifetime sent STOPPING=1 already; the stop may take as long as the modules' scripts may.
        reporter?.Stopping(hostOptions.Value.ShutdownTimeout + StopMargin, notifyStopping: !systemdSendsLifecycle);
        freezeHook?.Dispose();
        node.ReloadSignal.Dispose();
        if (!node.Host.IsRunning)
        {
            return;
        }

        // Modules first, all at once: each closes its traffic (a primary stops accepting and runs stop_prim first, so a
        // peer's start_prim follows it), waits until the peers own its buckets, then runs its stop scripts. Bounded by
        // the host's shutdown timeout, which counts the modules' script limits.
        long started = timeProvider.GetTimestamp();
        await node.Modules.StopAllAsync("farmd stopping", cancellationToken);
        Log.ModulesStopped(logger, timeProvider.GetElapsedTime(started).TotalMilliseconds);

        // Leave: the coordinator gives our remaining buckets to the others; we keep answering heartbeats meanwhile. (A
        // drained node leaves already; the shutdown's leave is kept apart, so a resume now cannot cancel it.)
        started = timeProvider.GetTimestamp();
        node.Drain.LeaveForShutdown();
        Log.Leaving(logger, node.Settings.LeaveTimeout.TotalSeconds);
        try
        {
            while (!node.HoldsNoBuckets())
            {
                if (timeProvider.GetElapsedTime(started) >= node.Settings.LeaveTimeout)
                {
                    Log.LeaveTimedOut(logger);
                    return;
                }

                await Task.Delay(node.Host.Options.HeartbeatInterval, timeProvider, cancellationToken);
            }

            Log.Left(logger, timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.LeaveTimedOut(logger);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await node.Modules.DisposeAsync();

        // Kestrel is closed by now: no request can publish, and after the heartbeat thread stops nothing refreshes the
        // lease. Then the data plane: responders, VIPs, filters, in reverse module order.
        node.Witness?.Stop();
        node.Host.Stop();
        node.Transport.Dispose();
        node.Drains?.Stop();
        node.DataPlane?.Stop();
        AdminSocket.Remove(node.Settings.AdminSocket);
        reporter?.Dispose();
        Log.Stopped(logger);
    }

    /// <summary>Idempotent; the stop normally disposed these already.</summary>
    public void Dispose()
    {
        reporter?.Dispose();
        freezeHook?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information,
            Message = "farmd started: node {Node} incarnation {Incarnation} in cluster {Cluster} (config hash {ConfigHash}, version {ConfigVersion}), {ModuleCount} module(s), admin socket {AdminSocket}")]
        public static partial void Started(ILogger logger, string node, long incarnation, string cluster, string configHash, int configVersion, int moduleCount, string adminSocket);

        [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "{Node} was drained when farmd last stopped and stays drained: it takes no share until 'farmctl resume {Node}'")]
        public static partial void StillDrained(ILogger logger, string node);

        [LoggerMessage(EventId = 10, Level = LogLevel.Information,
            Message = "farmd runs at nice {Nice}, ahead of the applications; module scripts run {Adjustment} higher, at the priority farmd had before")]
        public static partial void PriorityRaised(ILogger logger, int nice, int adjustment);

        [LoggerMessage(EventId = 11, Level = LogLevel.Warning,
            Message = "farmd runs at its original CPU priority: {Reason}. On a saturated node its heartbeat round trips then wait for a core with the applications, and its lease can lapse")]
        public static partial void PriorityRefused(ILogger logger, string reason);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Leaving the farm (at most {TimeoutSeconds} s)")]
        public static partial void Leaving(ILogger logger, double timeoutSeconds);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Left the farm after {ElapsedMs:F0} ms: no buckets left")]
        public static partial void Left(ILogger logger, double elapsedMs);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Leave timed out; stopping with buckets still assigned (peers take them when we stop answering)")]
        public static partial void LeaveTimedOut(ILogger logger);

        [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "farmd stopped")]
        public static partial void Stopped(ILogger logger);

        [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Modules stopped after {ElapsedMs:F0} ms")]
        public static partial void ModulesStopped(ILogger logger, double elapsedMs);

        [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Data plane running for {Running} of {Configured} module(s)")]
        public static partial void DataPlaneStarted(ILogger logger, int running, int configured);

        [LoggerMessage(EventId = 605, Level = LogLevel.Information, Message = "Waiting until this node is in an installed view with its data plane programmed before telling systemd it is ready")]
        public static partial void WaitingForView(ILogger logger);

        [LoggerMessage(EventId = 606, Level = LogLevel.Information, Message = "Asked to stop before this node was ready")]
        public static partial void StoppedBeforeReady(ILogger logger);
    }
}
