namespace Farm.Testing.Farmd;

/// <summary>
/// A real farmd process: the build output (<c>farmd.dll</c>) run with <c>dotnet</c>, or a published farmd executable,
/// on the host or inside a network namespace (<c>ip netns exec</c>). Its stdout and stderr are captured; signals stand
/// for crashes (SIGKILL), stalls (SIGSTOP/SIGCONT), service stops (SIGTERM) and reloads (SIGHUP). Disposing kills it if
/// it still runs.
/// </summary>
/// <remarks>
/// <c>ip netns exec</c> enters the namespace and then execs <c>dotnet</c> (or farmd), so <see cref="Id"/> is farmd's own
/// pid and signals reach farmd directly. Processes still running when the test process exits are killed by an exit hook.
/// </remarks>
public sealed class FarmdProcess : IAsyncDisposable
{
    /// <summary>How much of a daemon's output a failure's message carries: the recent past, which is what explains it.</summary>
    public const int FailureOutputTail = 200_000;

    private static readonly ExitSweep<FarmdProcess> Running = new(farmd => farmd.Kill());

    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly TimeProvider time = TimeProvider.System;

    private FarmdProcess(FarmdOptions options, Process process)
    {
        Options = options;
        this.process = process;
    }

    /// <summary>The options it was started with.</summary>
    public FarmdOptions Options { get; }

    /// <summary>The node name.</summary>
    public string Node => Options.Node;

    /// <summary>The admin socket path.</summary>
    public string AdminSocket => Options.AdminSocket;

    /// <summary>The process id (farmd's own, also inside a namespace).</summary>
    public int Id { get; private set; }

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => process.HasExited;

    /// <summary>The exit code; only valid once <see cref="HasExited"/>.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>The last <paramref name="maxChars"/> characters the process wrote (all of it when shorter).</summary>
    public string OutputTail(int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        lock (output)
        {
            return output.Length <= maxChars ? output.ToString() : output.ToString(output.Length - maxChars, maxChars);
        }
    }

    /// <summary>Writes everything the process wrote so far to <paramref name="writer"/> without copying it into one string.</summary>
    public void WriteOutput(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lock (output)
        {
            foreach (var chunk in output.GetChunks())
            {
                writer.Write(chunk.Span);
            }
        }
    }

    /// <summary>Starts farmd as <paramref name="options"/> say; returns at once (see <see cref="WaitForReadyAsync"/>).</summary>
    /// <exception cref="FileNotFoundException">farmd is not where <see cref="FarmdOptions.FarmdPath"/> says.</exception>
    /// <exception cref="ArgumentException">The data plane was asked for on the host.</exception>
    public static FarmdProcess Start(FarmdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(options.FarmdPath))
        {
            throw new FileNotFoundException(
                $"farmd is not at {options.FarmdPath}: give the test project a ProjectReference to src/Farm.Daemon (its build output is copied next to the tests).",
                options.FarmdPath);
        }

        bool dataPlane = options.DataPlane ?? options.Namespace is not null;
        if (dataPlane && options.Namespace is null)
        {
            throw new ArgumentException("farmd's data plane may run only inside a network namespace: tests never touch the root namespace.", nameof(options));
        }

        // A farmd.dll runs with dotnet; a published farmd executable runs as it is.
        bool managed = options.FarmdPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        string dotnet = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        string program = managed ? dotnet : options.FarmdPath;
        var arguments = new List<string>
        {
            "--cluster", options.ClusterFile, "--node", options.Node, "--admin-socket", options.AdminSocket,
        };
        AddOption(arguments, "--modules", options.ModulesDirectory);
        // Never farmd's default (/var/lib/farm): the test's own folder, beside the admin socket (farmd keeps its incarnation there).
        AddOption(arguments, "--state-dir", options.StateDirectory ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.AdminSocket)) ?? Path.GetTempPath(), "state-" + options.Node));
        AddOption(arguments, "--log-dir", options.LogDirectory);
        AddOption(arguments, "--log-level", DiagnosticLogLevel);
        foreach (var (from, to) in options.AddressMap)
        {
            arguments.Add("--address-map");
            arguments.Add(string.Create(CultureInfo.InvariantCulture, $"{from}={to}"));
        }

        if (!dataPlane)
        {
            arguments.Add("--data-plane");
            arguments.Add("off");
        }

        arguments.AddRange(options.ExtraArguments);
        if (managed)
        {
            arguments.Insert(0, options.FarmdPath);
        }

        ProcessStartInfo info;
        if (options.Namespace is { } ns && OperatingSystem.IsLinux())
        {
            info = new ProcessStartInfo(ToolLocator.Require("ip", "iproute2"));
            foreach (string argument in (string[])["netns", "exec", ns.Name, program, .. arguments])
            {
                info.ArgumentList.Add(argument);
            }
        }
        else
        {
            info = new ProcessStartInfo(program);
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }
        }

        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.StandardOutputEncoding = Encoding.UTF8;
        info.StandardErrorEncoding = Encoding.UTF8;
        info.Environment.Remove("NOTIFY_SOCKET");
        foreach (var (key, value) in options.Environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var farmd = new FarmdProcess(options, process);
        process.OutputDataReceived += (_, e) => farmd.Append(e.Data);
        process.ErrorDataReceived += (_, e) => farmd.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{info.FileName} did not start.");
        }

        farmd.Id = process.Id;
        Running.Add(farmd);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return farmd;
    }

    /// <summary>An admin client on this farmd's Unix socket; the caller disposes it.</summary>
    public FarmdAdminClient CreateAdminClient() => FarmdAdminClient.ForSocket(AdminSocket);

    /// <summary>Waits until the admin API answers GetStatus.</summary>
    /// <exception cref="InvalidOperationException">farmd exited first (the message holds its output).</exception>
    /// <exception cref="TimeoutException">It did not answer within <paramref name="timeout"/>.</exception>
    public async Task WaitForReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long start = time.GetTimestamp();
        using var admin = CreateAdminClient();
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"farmd {Node} exited with {ExitCode} before it was ready:\n{OutputTail(FailureOutputTail)}");
            }

            if (File.Exists(AdminSocket))
            {
                try
                {
                    await admin.GetStatusAsync(cancellationToken);
                    return;
                }
                catch (Grpc.Core.RpcException)
                {
                    // Listening but not serving yet.
                }
            }

            if (time.GetElapsedTime(start) > timeout)
            {
                throw new TimeoutException($"farmd {Node} was not ready within {timeout.TotalSeconds:0.#} s:\n{OutputTail(FailureOutputTail)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    /// <exception cref="TimeoutException">It still runs after <paramref name="timeout"/>.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"farmd {Node} did not exit within {timeout.TotalSeconds:0.#} s:\n{OutputTail(FailureOutputTail)}");
        }

        // The asynchronous readers may still hold the last lines; this overload waits for them.
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>SIGKILL: a crash, no cleanup of any kind.</summary>
    public void Kill()
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

    /// <summary>SIGTERM, as systemd stops the service: farmd leaves the farm and cleans up.</summary>
    public Task TerminateAsync(CancellationToken cancellationToken = default) => SignalAsync("TERM", cancellationToken);

    /// <summary>SIGHUP, as <c>systemctl reload</c> sends it: farmd reads its cluster file again (live weight changes).</summary>
    public Task ReloadAsync(CancellationToken cancellationToken = default) => SignalAsync("HUP", cancellationToken);

    /// <summary>SIGSTOP: the process stalls (as in a long GC pause or a frozen VM) until <see cref="ResumeAsync"/>.</summary>
    public Task PauseAsync(CancellationToken cancellationToken = default) => SignalAsync("STOP", cancellationToken);

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) => SignalAsync("CONT", cancellationToken);

    /// <summary>Kills the process if it still runs (SIGKILL also ends a stopped one) and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!Running.Remove(this))
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                Kill();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10), time);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"farmd {Node} (pid {Id})";

    private async Task SignalAsync(string signal, CancellationToken cancellationToken)
    {
        string pid = Id.ToString(CultureInfo.InvariantCulture);
        await CommandRunner.Default.RunAsync(ToolLocator.Require("kill", "procps"), ["-s", signal, pid], cancellationToken: cancellationToken);
    }

    /// <summary>
    /// For a failure to diagnose: the level every farmd a test starts logs at (<c>FARM_TEST_FARMD_LOG_LEVEL</c>, e.g.
    /// debug: each kernel assignment), or null for farmd's default. Tests that print the daemons' logs only on failure
    /// print them always when it is set.
    /// </summary>
    public static string? DiagnosticLogLevel { get; } =
        System.Environment.GetEnvironmentVariable("FARM_TEST_FARMD_LOG_LEVEL") is { Length: > 0 } level ? level : null;

    private static void AddOption(List<string> arguments, string name, string? value)
    {
        if (value is not null)
        {
            arguments.Add(name);
            arguments.Add(value);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
