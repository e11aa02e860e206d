using Farm.Daemon.Hosting;

namespace Farm.Daemon;

/// <summary>Entry point of <c>farmd</c>.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => DaemonApp.RunAsync(args, Console.Out, Console.Error);
}
