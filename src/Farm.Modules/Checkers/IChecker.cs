namespace Farm.Modules.Checkers;

/// <summary>One health check of a module; <see cref="CheckerMonitor"/> calls it every interval and bounds it by the checker's timeout.</summary>
internal interface IChecker
{
    /// <summary>Checks once. A failure is a result, not an exception; the token fires at the checker's timeout.</summary>
    Task<CheckResult> CheckAsync(CancellationToken cancellationToken);
}
