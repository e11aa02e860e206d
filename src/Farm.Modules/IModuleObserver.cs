namespace Farm.Modules;

/// <summary>
/// Hears what a module manager did, for metrics: each check, each script run and each recovery. Called on the
/// manager's own threads after the fact; implementations must be quick and must not throw.
/// </summary>
public interface IModuleObserver
{
    /// <summary>A checker gave a verdict after <paramref name="duration"/>.</summary>
    void Checked(string moduleName, string checker, bool up, TimeSpan duration);

    /// <summary>
    /// A script ran for <paramref name="duration"/>; <paramref name="outcome"/> is <c>succeeded</c>, <c>skipped</c>,
    /// <c>forced</c>, <c>failed</c> or <c>timed_out</c>.
    /// </summary>
    void ScriptRan(string moduleName, string script, string outcome, TimeSpan duration);

    /// <summary>
    /// A checker failure started a recovery: <paramref name="action"/> is <c>restart</c> or <c>stopstart</c>, or
    /// <c>maxloop</c> when there were too many recoveries and the module stopped instead.
    /// </summary>
    void Recovered(string moduleName, string action);
}
