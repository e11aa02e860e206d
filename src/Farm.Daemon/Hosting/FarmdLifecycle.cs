using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Starts the data plane before Kestrel listens and the heartbeat thread once it does, tells systemd, and on stop
/// leaves the farm gracefully (buckets move to the others first) before Kestrel closes; the data plane goes last.
/// </summary>
internal sealed partial class FarmdLifecycle(FarmNode node, TimeProvider timeProvider, ILogger<FarmdLifecycle> logger) : IHostedLifecycleService
{
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

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var settings = node.Settings;
        AdminSocket.Restrict(settings.AdminSocket);
        node.Witness?.Start();
        node.Host.Start();
        node.ReloadSignal.Start();

        // Boot: each module runs prestart, start_both and its checkers, then opens its traffic gate (UP/Ready).
        node.Modules.Boot();
        SystemdNotifier.Notify(settings.NotifySocket, "READY=1");
        Log.Started(logger, settings.Self.Name, settings.Incarnation, settings.Cluster.Name, node.Host.ConfigHash, settings.Cluster.Version, settings.Modules.Count, settings.AdminSocket);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        SystemdNotifier.Notify(node.Settings.NotifySocket, "STOPPING=1");
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
        Log.Stopped(logger);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information,
            Message = "farmd started: node {Node} incarnation {Incarnation} in cluster {Cluster} (config hash {ConfigHash}, version {ConfigVersion}), {ModuleCount} module(s), admin socket {AdminSocket}")]
        public static partial void Started(ILogger logger, string node, long incarnation, string cluster, string configHash, int configVersion, int moduleCount, string adminSocket);

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
    }
}
