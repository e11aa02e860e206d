using System.Net.Sockets;
using Microsoft.Extensions.Hosting.Systemd;

namespace Farm.Daemon.Hosting;

/// <summary>
/// Tells the service manager (systemd, through <see cref="ISystemdNotifier"/>) how the node is: when it serves
/// (<see cref="Ready"/>), a one-line <c>STATUS=</c> on every change, <c>WATCHDOG=1</c> while the heartbeat thread ticks, and
/// on stop how long the stop may take (<c>EXTEND_TIMEOUT_USEC=</c>, from the modules' script limits).
/// </summary>
/// <remarks>
/// The watchdog is fed from a timer, but only while <see cref="Heartbeat.MembershipHost.Ticks"/> advances: a heartbeat
/// thread that stalls (deadlock, a stuck sink) stops the feeding, and systemd restarts farmd after <c>WatchdogSec</c>. The
/// kernel lease already closed the node's traffic by then; the restart brings it back. A whole-process stall stops the
/// timer too, with the same outcome.
/// </remarks>
internal sealed partial class ServiceManagerReporter : IDisposable
{
    private static readonly TimeSpan MaxPollPeriod = TimeSpan.FromMilliseconds(200);

    private readonly FarmNode node;
    private readonly ISystemdNotifier notifier;
    private readonly TimeSpan? watchdog;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock watchdogGate = new();
    private ITimer? timer;
    private bool sendReady;
    private volatile bool stopping;
    private int statusBusy;
    private string? lastStatus;
    private long lastTicks = -1;
    private long lastTickSeen;
    private bool stallReported;
    private bool notifyFailed;

    /// <param name="watchdog">systemd's <c>WatchdogSec</c> for this process (<see cref="WatchdogOf"/>), or null: no feeding.</param>
    public ServiceManagerReporter(FarmNode node, ISystemdNotifier notifier, TimeSpan? watchdog, TimeProvider timeProvider, ILogger logger)
    {
        this.node = node ?? throw new ArgumentNullException(nameof(node));
        this.notifier = notifier ?? throw new ArgumentNullException(nameof(notifier));
        this.watchdog = watchdog;
        this.timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>Completes once the node is in its installed view with the data plane programmed (<see cref="NodeReadiness"/>).</summary>
    public Task Ready => ready.Task;

    /// <summary>How often the state is looked at: 200 ms, or a quarter of the watchdog timeout when that is shorter.</summary>
    public TimeSpan PollPeriod => watchdog is { } w && w / 4 < MaxPollPeriod ? w / 4 : MaxPollPeriod;

    /// <summary>
    /// The watchdog timeout systemd set for this process (<c>$WATCHDOG_USEC</c>, when <c>$WATCHDOG_PID</c> is absent or
    /// names <paramref name="processId"/>); null when there is none.
    /// </summary>
    public static TimeSpan? WatchdogOf(string? watchdogUsec, string? watchdogPid, int processId)
    {
        if (!ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) || usec == 0)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(watchdogPid) &&
            (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != processId))
        {
            return null; // meant for another process (e.g. inherited by a child)
        }

        return TimeSpan.FromMicroseconds(usec);
    }

    /// <summary>Starts watching; with <paramref name="notifyReady"/> this reporter sends <c>READY=1</c> itself (no systemd lifetime does).</summary>
    public void Start(bool notifyReady)
    {
        sendReady = notifyReady;
        lastTickSeen = timeProvider.GetTimestamp();
        if (watchdog is { } w)
        {
            Log.WatchdogEnabled(logger, w.TotalSeconds);
        }

        timer = timeProvider.CreateTimer(_ => Poll(), null, TimeSpan.Zero, PollPeriod);
    }

    /// <summary>
    /// The node stops: tells systemd how long the stop may take (<paramref name="bound"/>), and keeps feeding the
    /// watchdog unconditionally (the heartbeat thread ends during the stop; the stop timeout bounds it instead).
    /// </summary>
    public void Stopping(TimeSpan bound, bool notifyStopping)
    {
        stopping = true;
        if (notifyStopping)
        {
            Notify(ServiceState.Stopping);
        }

        Notify(string.Create(CultureInfo.InvariantCulture, $"EXTEND_TIMEOUT_USEC={(long)bound.TotalMicroseconds}"));
        Notify(string.Create(CultureInfo.InvariantCulture, $"STATUS=stopping: modules stop, then the node leaves the farm (at most {bound.TotalSeconds:F0} s)"));
    }

    /// <summary>One look at the node: feeds the watchdog, signals readiness, updates the status line. The timer calls it.</summary>
    internal void Poll()
    {
        FeedWatchdog();
        if (stopping || Interlocked.Exchange(ref statusBusy, 1) == 1)
        {
            return; // a previous look still waits for the membership lock: the watchdog part above says why
        }

        try
        {
            var readiness = NodeReadiness.Of(node);
            if (readiness.Ready && !ready.Task.IsCompleted)
            {
                if (sendReady)
                {
                    Notify(ServiceState.Ready);
                }

                Log.Ready(logger, readiness.Status);
                ready.TrySetResult();
            }

            if (readiness.Status != lastStatus && !stopping)
            {
                lastStatus = readiness.Status;
                Notify("STATUS=" + readiness.Status);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A status line is not worth a crash; the next poll tries again.
            Log.PollFailed(logger, ex);
        }
        finally
        {
            Volatile.Write(ref statusBusy, 0);
        }
    }

    public void Dispose()
    {
        timer?.Dispose();
        ready.TrySetCanceled();
    }

    private void FeedWatchdog()
    {
        if (watchdog is not { } w)
        {
            return;
        }

        lock (watchdogGate)
        {
            long now = timeProvider.GetTimestamp();
            long ticks = node.Host.Ticks;
            if (ticks != lastTicks)
            {
                lastTicks = ticks;
                lastTickSeen = now;
            }

            // A tick is due every interval; half the watchdog timeout on top leaves room for a slow tick, and the
            // other half for systemd to see the last feed.
            TimeSpan quiet = timeProvider.GetElapsedTime(lastTickSeen, now);
            if (stopping || quiet <= node.Host.Options.HeartbeatInterval + w / 2)
            {
                stallReported = false;
                Notify("WATCHDOG=1");
            }
            else if (!stallReported)
            {
                stallReported = true;
                Log.HeartbeatStalled(logger, quiet.TotalMilliseconds, ticks, w.TotalSeconds);
            }
        }
    }

    private void Notify(string state) => Notify(new ServiceState(state));

    private void Notify(ServiceState state)
    {
        try
        {
            notifier.Notify(state);
            notifyFailed = false;
        }
        catch (SocketException ex)
        {
            // Once per failure streak: systemd may be restarting; the next change is sent again.
            if (!notifyFailed)
            {
                notifyFailed = true;
                Log.NotifyFailed(logger, ex.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Ready: {Status}")]
        public static partial void Ready(ILogger logger, string status);

        [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "systemd watchdog on: fed while the heartbeat thread ticks (WatchdogSec {TimeoutSeconds} s)")]
        public static partial void WatchdogEnabled(ILogger logger, double timeoutSeconds);

        [LoggerMessage(EventId = 602, Level = LogLevel.Error,
            Message = "Heartbeat thread made no tick for {QuietMs:F0} ms (stuck at tick {Ticks}); the systemd watchdog is no longer fed and restarts farmd within {TimeoutSeconds} s")]
        public static partial void HeartbeatStalled(ILogger logger, double quietMs, long ticks, double timeoutSeconds);

        [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "Cannot notify the service manager: {Reason}")]
        public static partial void NotifyFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "Reading the node's state for the service manager failed; trying again")]
        public static partial void PollFailed(ILogger logger, Exception exception);
    }
}
