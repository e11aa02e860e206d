using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Runtime;

/// <summary>The log events of <see cref="DataPlaneHost"/> (400-419).</summary>
public sealed partial class DataPlaneHost
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Data plane of module {Module} started on {Interface} (VIPs {Vips}); fail-closed until this node holds a lease")]
        public static partial void ModuleStarted(ILogger logger, string module, string @interface, string vips);

        [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "Data plane of module {Module} could not start: {Reason}; the module takes no buckets on this node, the other modules go on")]
        public static partial void ModuleStartFailed(ILogger logger, string module, string reason, Exception exception);

        [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "Module {Module}: applied ownership version {Version} (epoch {Epoch}): {Owned} owned, {Incoming} incoming, {Claimed} claimed, {Draining} draining ({CleanMs:F1} ms for conntrack first, {KernelMs:F1} ms to program the kernel)")]
        public static partial void Applied(ILogger logger, string module, long version, long epoch, int owned, int incoming, int claimed, int draining, double cleanMs, double kernelMs);

        [LoggerMessage(EventId = 414, Level = LogLevel.Debug, Message = "Publishing ownership version {Version} took {Ms:F1} ms: {SettleMs:F1} ms deleting stale conntrack entries first, {WaitMs:F1} ms waiting for the data plane's lock, {ApplyMs:F1} ms applying; {JitMs:F1} ms of it compiling code")]
        public static partial void SlowPublish(ILogger logger, long version, double ms, double settleMs, double waitMs, double applyMs, double jitMs);

        [LoggerMessage(EventId = 403, Level = LogLevel.Error, Message = "Module {Module}: the kernel refused an update ({What}); its lease is withheld (the module serves nothing here, the peers take its buckets) and the filter rebuilt and applied again on every tick")]
        public static partial void KernelRefused(ILogger logger, string module, string what, Exception exception);

        [LoggerMessage(EventId = 404, Level = LogLevel.Information, Message = "Module {Module}: the kernel holds the bucket sets of epoch {Epoch} again")]
        public static partial void ApplyRecovered(ILogger logger, string module, long epoch);

        [LoggerMessage(EventId = 407, Level = LogLevel.Information, Message = "Data plane of module {Module} stopped: responder, VIPs and filter removed")]
        public static partial void ModuleStopped(ILogger logger, string module);

        [LoggerMessage(EventId = 408, Level = LogLevel.Error, Message = "Data plane of module {Module} did not stop cleanly; the next start undoes what is left")]
        public static partial void ModuleStopFailed(ILogger logger, string module, Exception exception);

        [LoggerMessage(EventId = 409, Level = LogLevel.Warning, Message = "Removed {Leftover} left by an earlier run that did not stop cleanly")]
        public static partial void LeftoverRemoved(ILogger logger, string leftover);

        [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Module {Module}: the kernel {What} the traffic of this node's buckets (epoch {Epoch})")]
        public static partial void AcceptingChanged(ILogger logger, string module, string what, long epoch);

        [LoggerMessage(EventId = 412, Level = LogLevel.Error, Message = "Module {Module}: withdrawing the kernel lease after a refused update failed too ({Reason}); it runs out within one lease duration")]
        public static partial void WithdrawFailed(ILogger logger, string module, string reason);

        [LoggerMessage(EventId = 413, Level = LogLevel.Warning, Message = "Module {Module}: lease refresh not made, it came {DelayMs:F0} ms late (held behind an apply): the lease runs out and the next tick renews it")]
        public static partial void LeaseTooLate(ILogger logger, string module, double delayMs);

        [LoggerMessage(EventId = 410, Level = LogLevel.Debug, Message = "No module configured and the data plane cannot run here ({Reason}); nothing to do")]
        public static partial void Skipped(ILogger logger, string reason);
    }
}
