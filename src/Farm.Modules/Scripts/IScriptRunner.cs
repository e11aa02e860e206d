namespace Farm.Modules.Scripts;

/// <summary>Runs module scripts in their own process group, within limits; the OS boundary of the module manager.</summary>
internal interface IScriptRunner
{
    /// <summary>
    /// Runs <paramref name="request"/> and never hangs past its limits: normal run up to <see cref="ScriptRequest.Timeout"/>,
    /// then (stop scripts) a forced run up to <see cref="ScriptRequest.ForceTimeout"/>, then the process groups are killed.
    /// Cancellation kills the process group and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<ScriptResult> RunAsync(ScriptRequest request, CancellationToken cancellationToken);
}
