using System.ComponentModel;
using System.Diagnostics;
using Farm.Core.Config;
using Microsoft.Extensions.Logging;

namespace Farm.Modules.Scripts;

/// <summary>
/// Runs scripts as real processes. Each run starts through setsid(1), so the script leads a new process group and
/// everything it spawned can be signalled at once (<c>kill -- -PGID</c>) when it overruns. Scripts get a clean
/// environment (<see cref="ScriptEnvironment"/>) plus their FARM_* variables; their output is read in lines of at most
/// 4096 characters, made printable (<see cref="ScriptOutputReader"/>).
/// </summary>
internal sealed partial class ProcessScriptRunner(TimeProvider timeProvider, ILogger<ProcessScriptRunner> logger) : IScriptRunner
{
    private const string SetsidPath = "/usr/bin/setsid";

    private const string NicePath = "/usr/bin/nice";

    // A SIGKILLed process is gone within moments; the bound only keeps a process stuck in the kernel from hanging a transition.
    private static readonly TimeSpan ReapTimeout = TimeSpan.FromSeconds(5);

    // Output written just before exit is still in the pipe when the exit is seen; wait this long for it so logs keep their order.
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromMilliseconds(500);

    private static readonly string? KillPath = new[] { "/usr/bin/kill", "/bin/kill" }.FirstOrDefault(File.Exists);

    /// <summary>
    /// Added to the daemon's nice value for each script (nice(1) in front of it; 0: none): the daemon runs at a raised
    /// priority and its scripts, and the applications they start, get back the one it had (ModuleHostOptions).
    /// </summary>
    public int NiceAdjustment { get; init; }

    public async Task<ScriptResult> RunAsync(ScriptRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!File.Exists(request.Path))
        {
            return ScriptResult.Skip();
        }

        if (!OperatingSystem.IsWindows() &&
            (File.GetUnixFileMode(request.Path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            return new ScriptResult(ScriptOutcome.Failed, null, $"{request.Path} is not executable (chmod +x it)");
        }

        using var normal = Launch(request, force: false, out string? error);
        if (normal is null)
        {
            return new ScriptResult(ScriptOutcome.Failed, null, $"could not start: {error}");
        }

        RunningScript? forced = null;
        try
        {
            if (await WaitForExitAsync(normal, request.Timeout, cancellationToken))
            {
                await DrainOutputAsync(normal);
                int code = normal.Process.ExitCode;
                return code == 0 ? ScriptResult.Ok() with { LastOutput = normal.LastLine } : ScriptResult.Fail(code, normal.LastLine);
            }

            string overran = $"timed out after {ConfigDuration.Format(request.Timeout)}";
            if (!request.ForceOnTimeout)
            {
                Log.Terminating(logger, request.Module, request.Name, request.Timeout);
                await SignalAsync(normal, "TERM");
                if (!await WaitForExitAsync(normal, request.ForceTimeout, cancellationToken))
                {
                    await KillAsync(normal);
                    return new ScriptResult(ScriptOutcome.TimedOut, null, $"{overran}; killed", normal.LastLine);
                }

                // The leader left on SIGTERM; whatever it spawned into its group goes too.
                await KillAsync(normal);
                return new ScriptResult(ScriptOutcome.TimedOut, null, $"{overran}; terminated", normal.LastLine);
            }

            // A stop script that hangs gets one more chance with 'force': it may kill the application harder itself.
            Log.Forcing(logger, request.Module, request.Name, request.Timeout);
            await SignalAsync(normal, "TERM");
            forced = Launch(request, force: true, out error);
            if (forced is null)
            {
                await KillAsync(normal);
                return new ScriptResult(ScriptOutcome.TimedOut, null, $"{overran}; the forced run could not start ({error}); killed", normal.LastLine);
            }

            bool forcedExited = await WaitForExitAsync(forced, request.ForceTimeout, cancellationToken);
            await KillAsync(normal);
            if (!forcedExited)
            {
                await KillAsync(forced);
                return new ScriptResult(
                    ScriptOutcome.TimedOut,
                    null,
                    $"{overran}; the forced run timed out after {ConfigDuration.Format(request.ForceTimeout)}; killed",
                    forced.LastLine ?? normal.LastLine);
            }

            await DrainOutputAsync(forced);
            int forcedCode = forced.Process.ExitCode;
            return forcedCode == 0
                ? new ScriptResult(ScriptOutcome.Forced, 0, $"{overran}; the forced run succeeded")
                : new ScriptResult(ScriptOutcome.Failed, forcedCode, $"{overran}; the forced run failed with exit code {forcedCode}", forced.LastLine);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The daemon is shutting down: leave nothing of this run behind.
            await KillAsync(normal);
            if (forced is not null)
            {
                await KillAsync(forced);
            }

            throw;
        }
        finally
        {
            forced?.Dispose();
        }
    }

    private RunningScript? Launch(ScriptRequest request, bool force, out string? error)
    {
        bool ownGroup = File.Exists(SetsidPath);
        bool renice = NiceAdjustment != 0 && File.Exists(NicePath);
        var psi = new ProcessStartInfo
        {
            FileName = renice ? NicePath : ownGroup ? SetsidPath : request.Path,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = request.WorkingDirectory,
        };
        // nice(1) and setsid(1) each exec the next: the script keeps the process id the runner signals.
        if (renice)
        {
            psi.ArgumentList.Add("-n");
            psi.ArgumentList.Add(NiceAdjustment.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (ownGroup)
            {
                psi.ArgumentList.Add(SetsidPath);
            }
        }

        if (ownGroup || renice)
        {
            psi.ArgumentList.Add(request.Path);
        }

        if (force)
        {
            psi.ArgumentList.Add("force");
        }

        foreach (string argument in request.Arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        // A clean environment, not farmd's: NOTIFY_SOCKET, DOTNET_* and the like are not the scripts' business.
        psi.Environment.Clear();
        foreach (var (key, value) in ScriptEnvironment.Base(Environment.GetEnvironmentVariable))
        {
            psi.Environment[key] = value;
        }

        foreach (var (key, value) in request.Environment)
        {
            psi.Environment[key] = value;
        }

        psi.Environment["FARM_FORCE"] = force ? "1" : "0";

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var script = new RunningScript(process, ownGroup);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
        {
            error = ex.Message;
            script.Dispose();
            return null;
        }

        // Scripts never read the daemon's stdin; EOF keeps one that tries from waiting forever.
        process.StandardInput.Close();
        string name = force ? $"{request.Name} force" : request.Name;
        var level = request.Quiet ? LogLevel.Debug : LogLevel.Information;
        script.Readers = Task.WhenAll(
            PumpAsync(script, process.StandardOutput, request.Module, name, level),
            PumpAsync(script, process.StandardError, request.Module, name, request.Quiet ? LogLevel.Debug : LogLevel.Warning));
        Log.Started(logger, request.Module, name, process.Id);
        error = null;
        return script;
    }

    private async Task PumpAsync(RunningScript script, StreamReader reader, string module, string name, LogLevel level)
    {
        try
        {
            var lines = new ScriptOutputReader(reader);
            while (await lines.ReadLineAsync() is { } line)
            {
                if (line.Length > 0)
                {
                    script.LastLine = line;
                    Log.Output(logger, level, module, name, line);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The pipe went away with the process; nothing more to log.
        }
    }

    private async Task<bool> WaitForExitAsync(RunningScript script, TimeSpan limit, CancellationToken cancellationToken)
    {
        if (script.Exited.IsCompleted)
        {
            return true;
        }

        bool exited = await CompletesWithinAsync(script.Exited, limit, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return exited || script.Exited.IsCompleted;
    }

    // A background child of the script may keep the pipes open for its whole life (e.g. the application itself):
    // then the remaining output is logged as it comes, under the script's name.
    private async Task DrainOutputAsync(RunningScript script) => _ = await CompletesWithinAsync(script.Readers, OutputDrainTimeout);

    /// <summary>True when <paramref name="task"/> ends before <paramref name="limit"/> passes (or the token fires); never throws for either.</summary>
    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var first = await Task.WhenAny(task, Task.Delay(limit, timeProvider, cts.Token));
        await cts.CancelAsync(); // frees the timer when the task won
        return first == task;
    }

    private async Task KillAsync(RunningScript script)
    {
        await SignalAsync(script, "KILL");
        try
        {
            // Catches children that left the group (setsid of their own) and the no-setsid fallback.
            script.Process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }

        if (!await CompletesWithinAsync(script.Exited, ReapTimeout))
        {
            Log.NotReaped(logger, script.Process.Id);
        }
    }

    private async Task SignalAsync(RunningScript script, string signal)
    {
        if (KillPath is null)
        {
            return;
        }

        // With setsid the script's PID is its process group id, so '-PID' addresses the whole group.
        string target = script.OwnGroup ? $"-{script.Process.Id}" : script.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var psi = new ProcessStartInfo(KillPath) { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-s");
        psi.ArgumentList.Add(signal);
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(target);
        try
        {
            using var kill = Process.Start(psi);
            if (kill is not null)
            {
                // kill(1) complains when the group is already empty; that is fine.
                _ = await kill.StandardError.ReadToEndAsync();
                await kill.WaitForExitAsync();
            }
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
        {
            Log.SignalFailed(logger, signal, target, ex.Message);
        }
    }

    /// <summary>One started process and what we know about it.</summary>
    private sealed class RunningScript : IDisposable
    {
        private readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RunningScript(Process process, bool ownGroup)
        {
            Process = process;
            OwnGroup = ownGroup;
            process.Exited += (_, _) => exited.TrySetResult();
        }

        public Process Process { get; }

        public bool OwnGroup { get; }

        public Task Exited => exited.Task;

        public Task Readers { get; set; } = Task.CompletedTask;

        public string? LastLine { get; set; }

        public void Dispose() => Process.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3020, Level = LogLevel.Debug, Message = "{Module}/{Script} started (pid {Pid})")]
        public static partial void Started(ILogger logger, string module, string script, int pid);

        [LoggerMessage(EventId = 3021, Message = "{Module}/{Script}: {Line}")]
        public static partial void Output(ILogger logger, LogLevel level, string module, string script, string line);

        [LoggerMessage(EventId = 3022, Level = LogLevel.Warning, Message = "{Module}/{Script} overran its {Timeout} timeout: running it again with 'force'")]
        public static partial void Forcing(ILogger logger, string module, string script, TimeSpan timeout);

        [LoggerMessage(EventId = 3023, Level = LogLevel.Warning, Message = "{Module}/{Script} overran its {Timeout} timeout: terminating its process group")]
        public static partial void Terminating(ILogger logger, string module, string script, TimeSpan timeout);

        [LoggerMessage(EventId = 3024, Level = LogLevel.Warning, Message = "Sending SIG{Signal} to {Target} failed: {Error}")]
        public static partial void SignalFailed(ILogger logger, string signal, string target, string error);

        [LoggerMessage(EventId = 3025, Level = LogLevel.Error, Message = "Process {Pid} did not exit after SIGKILL; giving up on it")]
        public static partial void NotReaped(ILogger logger, int pid);
    }
}
