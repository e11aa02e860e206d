using Farm.Daemon.Diagnostics;
using Farm.Daemon.Hosting;

namespace Farm.Daemon;

/// <summary>Entry point of <c>farmd</c>.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        ForcedGcLoop.StartIfRequested(Console.Error, TimeProvider.System);
        return DaemonApp.RunAsync(args, Console.Out, Console.Error);
    }
}
