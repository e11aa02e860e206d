using Farm.Daemon.Diagnostics;
using Farm.Daemon.Hosting;

namespace Farm.Daemon;

/// <summary>Entry point of <c>farmd</c>.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        // Under systemd, startup errors on stderr get the error priority, so `journalctl -u farmd -p err` shows them.
        var error = JournalStream.IsConnected(2) ? new JournalLineWriter(Console.Error, 3) : Console.Error;
        ForcedGcLoop.StartIfRequested(error, TimeProvider.System);
        return DaemonApp.RunAsync(args, Console.Out, error);
    }
}
