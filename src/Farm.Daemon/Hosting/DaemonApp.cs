using Serilog;
using Serilog.Events;

namespace Farm.Daemon.Hosting;

/// <summary>farmd's main flow: command line, files, host; returns the exit code.</summary>
internal static class DaemonApp
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var arguments = DaemonCommandLine.Parse(args, out bool help, out var problems);
        if (help)
        {
            output.WriteLine(DaemonCommandLine.Usage);
            return ExitOk;
        }

        if (arguments is null)
        {
            foreach (string problem in problems)
            {
                error.WriteLine($"farmd: {problem}");
            }

            error.WriteLine("Try 'farmd --help'.");
            return ExitUsage;
        }

        var timeProvider = TimeProvider.System;
        if (arguments.Cleanup)
        {
            return Cleanup(arguments, timeProvider, output, error);
        }

        var settings = DaemonSettingsLoader.Load(arguments, timeProvider.GetUtcNow().ToUnixTimeMilliseconds(), Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), error);
        if (settings is null)
        {
            return ExitFailed;
        }

        if (AdminSocket.Prepare(settings.AdminSocket, settings.AdminGroupId) is { } socketProblem)
        {
            error.WriteLine($"farmd: {socketProblem}");
            return ExitFailed;
        }

        // Before the host starts its threads and its start-up work (which then runs at the raised priority too).
        settings = settings with { Priority = CpuPriority.Raise(new Farm.Native.Linux.ProcessNice()) };

        using var logger = CreateLogger(settings);
        try
        {
            // The service manager integration belongs to the real process only: in-process test hosts are built without it.
            var (app, _) = DaemonHost.Build(settings, timeProvider, logging =>
            {
                // Serilog's hosting integration: the host's ILogger<T> write to this logger (Serilog is only the sink).
                logging.Services.AddSerilog(logger, dispose: false);
                logging.SetMinimumLevel(settings.LogLevel);
                logging.Services.AddServiceHosting();
            });
            await using (app)
            {
                await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken);
            }

            return ExitOk;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // Typically an address that is in use or not on this host: say which.
            error.WriteLine($"farmd: cannot start: {ex.Message}");
            // A missing prerequisite of the data plane is an operator problem with a complete message: no stack trace.
            logger.Fatal(ex is Farm.DataPlane.Runtime.DataPlaneUnavailableException ? null : ex, "farmd could not start: {Reason}", ex.Message);
            AdminSocket.Remove(settings.AdminSocket);
            return ExitFailed;
        }
    }

    /// <summary>
    /// <c>--cleanup</c>: removes what a crashed run left in the kernel (the package's removal runs it after stopping the
    /// service). Refused while a farmd answers on the admin socket: its tables are not leftovers.
    /// </summary>
    private static int Cleanup(DaemonArguments arguments, TimeProvider timeProvider, TextWriter output, TextWriter error)
    {
        if (AdminSocket.Prepare(arguments.AdminSocket) is { } socketProblem)
        {
            error.WriteLine($"farmd: --cleanup refused: {socketProblem}");
            return ExitFailed;
        }

        using var loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(_ => { });
        var backend = new KernelDataPlaneBackend(arguments.StateDirectory, timeProvider, loggerFactory);
        if (backend.MissingPrerequisite() is { } missing)
        {
            error.WriteLine($"farmd: --cleanup: nothing can be cleaned up here: {missing}");
            return ExitFailed;
        }

        var removed = backend.RemoveLeftovers();
        foreach (string leftover in removed)
        {
            output.WriteLine($"removed {leftover}");
        }

        output.WriteLine(removed.Count == 0 ? "farmd: nothing left to clean up" : $"farmd: removed {removed.Count} leftover(s)");
        return ExitOk;
    }

    /// <summary>The Serilog level of <paramref name="level"/> (the levels <c>--log-level</c> accepts, and the rest for completeness).</summary>
    internal static LogEventLevel SerilogLevel(LogLevel level) => level switch
    {
        LogLevel.Trace => LogEventLevel.Verbose,
        LogLevel.Debug => LogEventLevel.Debug,
        LogLevel.Information => LogEventLevel.Information,
        LogLevel.Warning => LogEventLevel.Warning,
        LogLevel.Error => LogEventLevel.Error,
        _ => LogEventLevel.Fatal,
    };

    /// <summary>Log events waiting for the writer thread at most (Debug logging writes a few hundred a second).</summary>
    private const int LogBuffer = 10_000;

    private static Serilog.Core.Logger CreateLogger(DaemonSettings settings)
    {
        const string template = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(SerilogLevel(settings.LogLevel))
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // Grpc.AspNetCore logs every call a client cancelled (a peer's deadline) at Information, with a stack trace.
            .MinimumLevel.Override("Grpc", LogEventLevel.Warning)
            .Enrich.WithProperty("Node", settings.Self.Name);

        // Written by one background thread: a log call never waits for stdout or the disk. Several are made under the
        // membership lock, which the heartbeat thread needs every interval: a reader of stdout that falls behind
        // (journald under pressure, a busy test harness) would block the write, the lock and the heartbeats behind it.
        // (Not the cause of the heartbeat thread's start-up stalls measured on 2026-12-05: they stayed with this sink.)
        // When the buffer is full, events are dropped rather than waited for.
        bool journal = JournalStream.IsConnected(1);
        config = config.WriteTo.Async(
            sinks =>
            {
                // Under systemd the journal timestamps each line and reads its priority from a <N> prefix.
                if (journal)
                {
                    sinks.Console(new JournalFormatter());
                }
                else
                {
                    sinks.Console(outputTemplate: template, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
                }

                if (settings.LogDirectory is { } dir)
                {
                    sinks.File(
                        Path.Combine(dir, "farmd-.log"),
                        rollingInterval: RollingInterval.Day,
                        retainedFileCountLimit: 14,
                        outputTemplate: template,
                        formatProvider: System.Globalization.CultureInfo.InvariantCulture);
                }
            },
            bufferSize: LogBuffer,
            blockWhenFull: false);

        return config.CreateLogger(); // disposed when farmd ends: what is still buffered is written then
    }
}
