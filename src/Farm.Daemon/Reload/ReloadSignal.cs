using System.Runtime.InteropServices;

namespace Farm.Daemon.Reload;

/// <summary>
/// SIGHUP re-reads the cluster file (<see cref="ClusterReloader.ReloadFromDisk"/>); the outcome is logged, and a
/// refused file leaves the old one running. Without it SIGHUP would end farmd (the default action).
/// </summary>
internal sealed partial class ReloadSignal(ClusterReloader reloader, ILogger<ReloadSignal> logger) : IDisposable
{
    private PosixSignalRegistration? registration;

    /// <summary>Handles SIGHUP from now on (not on Windows, which has no such signal).</summary>
    public void Start()
    {
        if (!OperatingSystem.IsWindows() && registration is null)
        {
            registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
            if (IsIgnored(ReadStatus(), SigHup))
            {
                // The runtime keeps a signal ignored when the process was started with it ignored (nohup, some shells).
                Log.Ignored(logger);
            }
        }
    }

    /// <summary>SIGHUP's number on Linux.</summary>
    internal const int SigHup = 1;

    /// <summary>
    /// True when <paramref name="procStatus"/> (the text of /proc/self/status) lists <paramref name="signal"/> in its
    /// SigIgn mask (hexadecimal, bit N-1 for signal N); false when the line is missing or unreadable.
    /// </summary>
    internal static bool IsIgnored(string? procStatus, int signal)
    {
        foreach (var line in (procStatus ?? "").Split('\n'))
        {
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan("SigIgn:".Length).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out ulong mask))
            {
                return (mask & (1UL << (signal - 1))) != 0;
            }
        }

        return false;
    }

    private static string? ReadStatus()
    {
        try
        {
            return File.ReadAllText("/proc/self/status");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Stops handling SIGHUP (the default action applies again).</summary>
    public void Dispose()
    {
        registration?.Dispose();
        registration = null;
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // keep running: the default action of SIGHUP terminates
        Log.Received(logger, reloader.FilePath);
        try
        {
            // Synchronous: a reload reads one small file; the next signal waits for it.
            reloader.ReloadFromDisk();
        }
        catch (Exception ex)
        {
            // A bug must not end farmd through a signal handler; the old file keeps running.
            Log.Failed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 506, Level = LogLevel.Information, Message = "SIGHUP: reading {Path} again")]
        public static partial void Received(ILogger logger, string path);

        [LoggerMessage(EventId = 507, Level = LogLevel.Error, Message = "Reload on SIGHUP failed; the running cluster file stays")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 508, Level = LogLevel.Warning,
            Message = "farmd was started with SIGHUP ignored (by nohup or the starting shell): SIGHUP and 'systemctl reload' will not reload the cluster file; use 'farmctl config apply', or start farmd without nohup (systemd does)")]
        public static partial void Ignored(ILogger logger);
    }
}
