namespace Farm.WebConsole;

/// <summary>What an operator may do from the console; the host runs each action as farmctl's command would.</summary>
public interface IConsoleActions
{
    /// <summary>Drains (<paramref name="drain"/> true) or resumes <paramref name="node"/>.</summary>
    Task<ConsoleActionResult> DrainAsync(string node, bool drain, string requestedBy, CancellationToken cancellationToken);

    /// <summary>Starts, stops or restarts (<paramref name="action"/>) <paramref name="module"/> on <paramref name="node"/>, or on every node when it is null.</summary>
    Task<ConsoleActionResult> ControlModuleAsync(string module, string action, string? node, string requestedBy, CancellationToken cancellationToken);

    /// <summary>Gives <paramref name="node"/> the weight <paramref name="weight"/> on every node (a new cluster file version).</summary>
    Task<ConsoleActionResult> SetWeightAsync(string node, int weight, string requestedBy, CancellationToken cancellationToken);
}
