namespace Farm.Modules.Scripts;

/// <summary>One script to run, with its limits.</summary>
/// <param name="Module">Module name, for logs.</param>
/// <param name="Name">Name for logs and reasons (script name or checker name).</param>
/// <param name="Path">Absolute path of the executable.</param>
/// <param name="Arguments">Arguments of the normal run; the forced run gets <c>force</c> before them.</param>
/// <param name="Environment">FARM_* variables, added to the clean base environment (<see cref="ScriptEnvironment"/>), never to farmd's own.</param>
/// <param name="WorkingDirectory">The module folder.</param>
/// <param name="Timeout">Limit of the normal run.</param>
/// <param name="ForceTimeout">Stop scripts: limit of the forced run; start scripts and checkers: grace between SIGTERM and SIGKILL of the process group.</param>
/// <param name="ForceOnTimeout">True for stop scripts: on timeout run the script again with <c>force</c> before killing.</param>
/// <param name="Quiet">Log output at Debug instead of Information (custom checkers run every few seconds).</param>
internal sealed record ScriptRequest(
    string Module,
    string Name,
    string Path,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory,
    TimeSpan Timeout,
    TimeSpan ForceTimeout,
    bool ForceOnTimeout,
    bool Quiet = false);
