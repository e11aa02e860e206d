using Farm.Core.Config;
using Microsoft.Extensions.Logging;

namespace Farm.Modules.Checkers;

/// <summary>Runs one checker every interval, bounds each check by its timeout and reports every verdict.</summary>
internal static partial class CheckerMonitor
{
    /// <summary>Checks at once, then every <see cref="CheckerConfig.Interval"/> after the previous check ended, until cancelled; tells <paramref name="observer"/> each verdict and its duration.</summary>
    public static async Task RunAsync(
        string module,
        CheckerConfig config,
        IChecker checker,
        Action<CheckResult> report,
        TimeProvider time,
        ILogger logger,
        CancellationToken cancellationToken,
        IModuleObserver? observer = null)
    {
        bool? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            CheckResult result;
            long started = time.GetTimestamp();
            try
            {
                result = await CheckOnceAsync(config, checker, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A checker that throws is a failed check, never a dead monitor.
                Log.CheckThrew(logger, ex, module, config.Name);
                result = CheckResult.Fail($"check failed: {ex.Message}");
            }

            if (result.Up != last)
            {
                Log.Changed(logger, module, config.Name, result.Up ? "up" : "down", result.Detail);
                last = result.Up;
            }

            observer?.Checked(module, config.Name, result.Up, time.GetElapsedTime(started));
            report(result);
            try
            {
                await Task.Delay(config.Interval, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One check within the checker's timeout; a checker that ignores its token still loses at the timeout.</summary>
    public static async Task<CheckResult> CheckOnceAsync(CheckerConfig config, IChecker checker, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(config.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await checker.CheckAsync(linked.Token).WaitAsync(config.Timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            return TimedOut(config);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return TimedOut(config);
        }
    }

    private static CheckResult TimedOut(CheckerConfig config) => CheckResult.Fail($"no answer within {ConfigDuration.Format(config.Timeout)}");

    private static partial class Log
    {
        [LoggerMessage(EventId = 3040, Level = LogLevel.Information, Message = "Module {Module}: checker {Checker} is {Verdict}: {Detail}")]
        public static partial void Changed(ILogger logger, string module, string checker, string verdict, string detail);

        [LoggerMessage(EventId = 3041, Level = LogLevel.Warning, Message = "Module {Module}: checker {Checker} threw; counted as a failed check")]
        public static partial void CheckThrew(ILogger logger, Exception exception, string module, string checker);
    }
}
