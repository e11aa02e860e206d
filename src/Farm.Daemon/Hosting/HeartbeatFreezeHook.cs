using System.Runtime.InteropServices;

namespace Farm.Daemon.Hosting;

/// <summary>
/// TEST ONLY: with <c>FARMD_TEST_HOOKS=1</c> in farmd's environment, SIGUSR1 freezes the heartbeat thread for good (a
/// thread takes the membership lock and never gives it back), so a test can watch systemd's watchdog restart farmd.
/// Without the variable SIGUSR1 keeps its default action (the process ends).
/// </summary>
internal sealed partial class HeartbeatFreezeHook : IDisposable
{
    /// <summary>The environment variable that enables the hook; only the value <c>1</c> does.</summary>
    public const string EnvironmentVariable = "FARMD_TEST_HOOKS";

    // SIGUSR1 on Linux (x86-64 and arm64); PosixSignal names only the portable signals, raw numbers are allowed.
    private const int SigUsr1 = 10;

    private readonly MembershipHost host;
    private readonly ILogger logger;
    private readonly ManualResetEventSlim release = new(false);
    private readonly PosixSignalRegistration registration;
    private int frozen;

    private HeartbeatFreezeHook(MembershipHost host, ILogger logger)
    {
        this.host = host;
        this.logger = logger;
        registration = PosixSignalRegistration.Create((PosixSignal)SigUsr1, context =>
        {
            context.Cancel = true;
            Freeze();
        });
    }

    /// <summary>Installs the hook when <see cref="EnvironmentVariable"/> is <c>1</c> on Linux; otherwise null.</summary>
    public static HeartbeatFreezeHook? InstallIfEnabled(MembershipHost host, ILogger logger, string? setting)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(logger);
        if (setting != "1" || !OperatingSystem.IsLinux())
        {
            return null;
        }

        Log.Installed(logger, EnvironmentVariable);
        return new HeartbeatFreezeHook(host, logger);
    }

    public void Dispose()
    {
        registration.Dispose();
        release.Set();
    }

    private void Freeze()
    {
        if (Interlocked.Exchange(ref frozen, 1) != 0)
        {
            return;
        }

        Log.Freezing(logger);
        var thread = new Thread(() => host.Read((_, _) =>
        {
            release.Wait();
            return 0;
        })) { IsBackground = true, Name = "farm-test-freeze" };
        thread.Start();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 610, Level = LogLevel.Warning, Message = "Test hooks are on ({Variable}=1): SIGUSR1 freezes the heartbeat thread. Never set this in production")]
        public static partial void Installed(ILogger logger, string variable);

        [LoggerMessage(EventId = 611, Level = LogLevel.Warning, Message = "Test hook: SIGUSR1 received, freezing the heartbeat thread (the membership lock is held from now on)")]
        public static partial void Freezing(ILogger logger);
    }
}
