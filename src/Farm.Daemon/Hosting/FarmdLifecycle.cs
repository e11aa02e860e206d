using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Starts the heartbeat thread once Kestrel listens, tells systemd, and on stop leaves the farm gracefully
/// (buckets move to the others first) before Kestrel closes.
/// </summary>
internal sealed partial class FarmdLifecycle(FarmNode node, TimeProvider timeProvider, ILogger<FarmdLifecycle> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var settings = node.Settings;
        AdminSocket.Restrict(settings.AdminSocket);
        node.Host.Start();
        SystemdNotifier.Notify(settings.NotifySocket, "READY=1");
        Log.Started(logger, settings.Self.Name, settings.Incarnation, settings.Cluster.Name, node.Host.ConfigHash, settings.Modules.Count, settings.AdminSocket);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        SystemdNotifier.Notify(node.Settings.NotifySocket, "STOPPING=1");
        if (!node.Host.IsRunning)
        {
            return;
        }

        // Leave: the coordinator gives our buckets to the others; we keep answering heartbeats meanwhile.
        long started = timeProvider.GetTimestamp();
        node.Host.UpdateSelf(self => self with { Leaving = true });
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

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        node.Host.Stop();
        node.Transport.Dispose();
        AdminSocket.Remove(node.Settings.AdminSocket);
        Log.Stopped(logger);
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information,
            Message = "farmd started: node {Node} incarnation {Incarnation} in cluster {Cluster} (config hash {ConfigHash}), {ModuleCount} module(s), admin socket {AdminSocket}")]
        public static partial void Started(ILogger logger, string node, long incarnation, string cluster, string configHash, int moduleCount, string adminSocket);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Leaving the farm (at most {TimeoutSeconds} s)")]
        public static partial void Leaving(ILogger logger, double timeoutSeconds);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Left the farm after {ElapsedMs:F0} ms: no buckets left")]
        public static partial void Left(ILogger logger, double elapsedMs);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Leave timed out; stopping with buckets still assigned (peers take them when we stop answering)")]
        public static partial void LeaveTimedOut(ILogger logger);

        [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "farmd stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
