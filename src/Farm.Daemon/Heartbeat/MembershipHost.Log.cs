using Microsoft.Extensions.Logging;

namespace Farm.Daemon.Heartbeat;

/// <summary>The log events of <see cref="MembershipHost"/> (200-204).</summary>
internal sealed partial class MembershipHost
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Heartbeat thread started, interval {IntervalMs} ms")]
        public static partial void ThreadStarted(ILogger logger, double intervalMs);

        [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Membership tick failed; the heartbeat thread goes on")]
        public static partial void TickFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Heartbeat thread was {LateMs:F0} ms late (process stalled?): {StepMs:F0} ms in the tick itself ({LockMs:F0} waiting for the membership lock, {TickMs:F0} under it, {DeliverMs:F0} delivering), {GcMs:F0} ms of garbage-collection pauses and {JitMs:F0} ms of JIT compilation (all threads) since the tick before")]
        public static partial void TickLate(ILogger logger, double lateMs, double stepMs, double lockMs, double tickMs, double deliverMs, double gcMs, double jitMs);

        [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "The heartbeat thread runs at normal priority: {Reason}. A busy machine can then delay it past the lease and stop this node serving")]
        public static partial void PriorityRefused(ILogger logger, string reason);

        [LoggerMessage(EventId = 204, Level = LogLevel.Debug, Message = "Heartbeat thread at real-time priority {Priority} (SCHED_RR)")]
        public static partial void PriorityRaised(ILogger logger, int priority);

        [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "Applying what a heartbeat changed failed; the next change or tick applies the latest ownership")]
        public static partial void DeferredDeliveryFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 208, Level = LogLevel.Warning,
            Message = "The threads that read this node's sockets have not run for {StalledMs:F0} ms (thread pool starved or blocked; the heartbeat thread still runs): peers' silence is not counted meanwhile, and they will likely remove this node")]
        public static partial void ReadersStalled(ILogger logger, double stalledMs);

        [LoggerMessage(EventId = 209, Level = LogLevel.Information, Message = "The threads that read this node's sockets run again, after {StalledMs:F0} ms")]
        public static partial void ReadersRanAgain(ILogger logger, double stalledMs);
    }
}
