using System.ComponentModel;

namespace Farm.Testing.Processes;

/// <summary>Runs external commands with arguments, optional stdin, a timeout and captured output.</summary>
public sealed class CommandRunner
{
    /// <summary>Creates a runner whose timeouts are measured by <paramref name="timeProvider"/>.</summary>
    public CommandRunner(TimeProvider timeProvider, TimeSpan defaultTimeout)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(defaultTimeout, TimeSpan.Zero);
        TimeProvider = timeProvider;
        DefaultTimeout = defaultTimeout;
    }

    /// <summary>A runner on the system clock with a 30 s default timeout.</summary>
    public static CommandRunner Default { get; } = new(TimeProvider.System, TimeSpan.FromSeconds(30));

    /// <summary>The clock that measures timeouts.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The timeout used when a call gives none.</summary>
    public TimeSpan DefaultTimeout { get; }

    /// <summary>Runs a command and throws <see cref="CommandFailedException"/> unless it exits with code 0.</summary>
    /// <exception cref="CommandFailedException">The command could not start or exited non-zero.</exception>
    /// <exception cref="TimeoutException">The command outlived its timeout; it was killed.</exception>
    public async Task<CommandResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        string? standardInput = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var result = await RunUncheckedAsync(fileName, arguments, standardInput, timeout, cancellationToken);
        return result.Succeeded ? result : throw new CommandFailedException(result);
    }

    /// <summary>Runs a command and returns its result whatever its exit code.</summary>
    /// <exception cref="CommandFailedException">The command could not start.</exception>
    /// <exception cref="TimeoutException">The command outlived its timeout; it was killed.</exception>
    public async Task<CommandResult> RunUncheckedAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        string? standardInput = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        string commandLine = FormatCommandLine(fileName, arguments);
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new CommandFailedException($"Command `{commandLine}` could not be started: {e.Message}", e);
        }

        TimeSpan limit = timeout ?? DefaultTimeout;
        using var timeoutSource = new CancellationTokenSource(limit, TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token, cancellationToken);
        try
        {
            // Both pipes are drained concurrently so a chatty command never blocks on a full pipe.
            var stdout = process.StandardOutput.ReadToEndAsync(linked.Token);
            var stderr = process.StandardError.ReadToEndAsync(linked.Token);
            await WriteInputAsync(process, standardInput, linked.Token);
            await process.WaitForExitAsync(linked.Token);
            return new CommandResult(commandLine, process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            throw new TimeoutException($"Command `{commandLine}` did not finish within {limit.TotalSeconds:0.###} s and was killed.");
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>A printable command line; arguments with spaces or quotes are single-quoted as a shell would need.</summary>
    public static string FormatCommandLine(string fileName, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        return string.Join(' ', arguments.Prepend(fileName).Select(Quote));

        static string Quote(string s) =>
            s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@+%".Contains(c, StringComparison.Ordinal))
                ? s
                : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    private static async Task WriteInputAsync(Process process, string? standardInput, CancellationToken cancellationToken)
    {
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
            }

            // Always close stdin so a command that reads it sees end of input instead of waiting forever.
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command exited without reading all of its input; its exit code and stderr tell why.
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
